"""Tasks as they happen. `services.up`, from the stack's events: a line per service as it
becomes healthy (per auxiliary server as it is ready), with its time, and a spinner while
the migrations run; `migrations.check`: a spinner naming the history being checked.
Spinners turn on a terminal only (rich); elsewhere the lines are plain text."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from rich.console import Console
from rich.status import Status

from harness.db import History
from harness.stack import Event
from harness.stack._events import (
    DatabaseProvisioned,
    MigrationsDone,
    MigrationsStarted,
    ServerReady,
    ServiceHealthy,
)


class UpProgress:
    """Observer of a stack coming up, printing to `console`."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._spinner: Status | None = None
        self._width = 12

    def align(self, names: Iterable[str]) -> None:
        """Give the name column the width of the longest of `names`."""
        self._width = max([12, *map(len, names)])

    def __call__(self, event: Event) -> None:
        if isinstance(event, DatabaseProvisioned):
            self._line(f"database  {event.backend} {event.name}")
        elif isinstance(event, MigrationsStarted) and event.histories:
            if self.console.is_terminal:
                self._spinner = self.console.status(f"migrating {event.histories} histories")
                self._spinner.start()
        elif isinstance(event, MigrationsDone) and event.histories:
            self._stop_spinner()
            copy = " (copied: unchanged since a run migrated them)" if event.copied else ""
            self._line(f"migrated  {event.histories} histories in {event.seconds:.2f} s{copy}")
        elif isinstance(event, ServiceHealthy):
            self._line(
                f"healthy   {event.name:<{self._width}} {event.url}  in {event.seconds:.2f} s"
            )
        elif isinstance(event, ServerReady):
            self._line(
                f"ready     {event.name:<{self._width}} {event.url}  in {event.seconds:.2f} s"
            )

    def close(self) -> None:
        """Stop the spinner, if the start ended while it turned."""
        self._stop_spinner()

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _line(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)


@contextlib.contextmanager
def checking(console: Console, histories: int) -> Iterator[Callable[[History], None]]:
    """What to tell each history as its checks begin: a spinner names it (on a terminal)."""
    if not console.is_terminal:
        yield lambda _history: None
        return
    counted = iter(range(1, histories + 1))
    with console.status("checking migrations") as spinner:
        yield lambda history: spinner.update(
            f"checking {history.name}'s history ({next(counted)} of {histories})"
        )
