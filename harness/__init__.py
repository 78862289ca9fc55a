"""harness: bring a monorepo's HTTP services up on test ports and test them live.

The names below are imported on first use, so `import harness.nox` (in Nox's own
interpreter, where harness's dependencies may be missing) costs only what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.breaking import Finding, Verdict, breaking_changes, judge
    from harness.config import HarnessConfig, ServiceConfig, load_config
    from harness.conformance import ContractValidator
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

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "ContractError",
    "ContractValidator",
    "ContractViolation",
    "Finding",
    "HarnessConfig",
    "HarnessError",
    "MigrationError",
    "PortInUseError",
    "RunStateError",
    "ServiceConfig",
    "ServiceStartError",
    "Stack",
    "Teardown",
    "Verdict",
    "breaking_changes",
    "clean_stale_runs",
    "judge",
    "load_config",
]
_MODULES = (
    "harness.exceptions",
    "harness.config",
    "harness.breaking",
    "harness.conformance",
    "harness.stack",
)


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                globals()[name] = getattr(module, name)
                return globals()[name]
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
