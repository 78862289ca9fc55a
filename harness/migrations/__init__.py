"""The migration checker: every Alembic history judged revision by revision
(stairway, data kept, models match, fresh install, ...)."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.migrations._checks import (
        CheckResult,
        MigrationChecker,
        check_all,
        histories,
        planned,
    )
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
