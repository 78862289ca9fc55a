"""harness: bring a monorepo's HTTP services up on test ports and test them live.

The names below are imported on first use, so `import harness.nox` (in Nox's own
interpreter, where harness's dependencies may be missing) costs only what it uses.
Each wing (`harness.config`, `.stack`, `.db`, `.contracts`, `.migrations`, `.perf`,
`.reports`, `.testing`) names its own public names the same way.
"""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.config import HarnessConfig, ServiceConfig, load_config
    from harness.contracts import ContractValidator, Finding, Verdict, breaking_changes, judge
    from harness.exceptions import (
        BackendUnavailableError,
        ConfigError,
        ContractError,
        ContractViolation,
        HarnessError,
        MigrationError,
        PortInUseError,
        RunStateError,
        ServiceStartError,
    )
    from harness.stack import Stack, Teardown, clean_stale_runs
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
