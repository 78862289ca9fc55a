"""The invoke tasks: `services.up|down|status|logs|restart`, `ports.clean`,
`contracts.export|check`, `migrations.check`, `perf.baseline`, `reports.begin|merge`, one
module per namespace that parses, calls the wings and renders.

A monorepo's `tasks.py` is `from harness.cli import namespace`. Every expected failure
exits non-zero with harness's one-screen message, never a traceback.
"""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.cli._namespace import namespace
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
