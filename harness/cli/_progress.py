"""`services.up` as it happens, from the stack's events: a line per service as it becomes
healthy, with its time, and a spinner while the migrations run (on a terminal, with rich;
elsewhere the same lines as plain text)."""

from __future__ import annotations

from rich.console import Console
from rich.status import Status

from harness.stack import Event
from harness.stack._events import (
    DatabaseProvisioned,
    MigrationsDone,
    MigrationsStarted,
    ServiceHealthy,
)


class UpProgress:
    """Observer of a stack coming up, printing to `console`."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._spinner: Status | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, DatabaseProvisioned):
            self._line(f"database  {event.backend} {event.name}")
        elif isinstance(event, MigrationsStarted) and event.histories:
            if self.console.is_terminal:
                self._spinner = self.console.status(f"migrating {event.histories} histories")
                self._spinner.start()
        elif isinstance(event, MigrationsDone) and event.histories:
            self._stop_spinner()
            self._line(f"migrated  {event.histories} histories in {event.seconds:.2f} s")
        elif isinstance(event, ServiceHealthy):
            self._line(f"healthy   {event.name:<12} {event.url}  in {event.seconds:.2f} s")

    def close(self) -> None:
        """Stop the spinner, if the start ended while it turned."""
        self._stop_spinner()

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _line(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)
