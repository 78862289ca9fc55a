"""The invoke tasks: a monorepo's `tasks.py` is `from harness.cli import namespace`."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.cli._namespace import namespace
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
