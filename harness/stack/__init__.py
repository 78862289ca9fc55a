"""A run's stack: its services and database brought up on test ports, taken down with
nothing left behind, and the events it reports on the way."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.stack._events import Event, Observer
    from harness.stack._private_run import private_run
    from harness.stack._stack import ServiceStatus, Stack, Teardown, clean_stale_runs
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
