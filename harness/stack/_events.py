"""What a stack tells its observers as a run comes up and goes down.

The stack reports facts; observers decide what to do with them: the lifecycle JUnit
suite is written by one (`harness.stack._junit`), `services.up` renders progress with
another. An observer is any callable taking an event; it is called on the thread that
saw the fact (services become healthy on threads of their own), one event at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.infra import RunState
from harness.stack._teardown import Teardown


@dataclass(frozen=True)
class DatabaseProvisioned:
    backend: str
    name: str


@dataclass(frozen=True)
class MigrationsStarted:
    histories: int


@dataclass(frozen=True)
class MigrationsDone:
    histories: int
    seconds: float
    copied: bool = False  # a copy of what they made last time (`harness.db.migrate_all`)


@dataclass(frozen=True)
class ServiceSpawned:
    name: str
    pid: int
    port: int


@dataclass(frozen=True)
class ServiceHealthy:
    name: str
    url: str
    seconds: float


@dataclass(frozen=True)
class ServerReady:
    """An auxiliary server passed its readiness probe (`[tool.harness.servers]`)."""

    name: str
    url: str
    seconds: float


@dataclass(frozen=True)
class StackUp:
    state: RunState
    seconds: float


@dataclass(frozen=True)
class StartFailed:
    """The start was abandoned: `teardown` took down what had started."""

    state: RunState
    teardown: Teardown
    error: BaseException


@dataclass(frozen=True)
class StackDown:
    state: RunState
    teardown: Teardown


Event = (
    DatabaseProvisioned
    | MigrationsStarted
    | MigrationsDone
    | ServiceSpawned
    | ServiceHealthy
    | ServerReady
    | StackUp
    | StartFailed
    | StackDown
)
Observer = Callable[[Event], None]


class Observers:
    """The observers of one stack, told each event in turn, one event at a time."""

    def __init__(self, observers: Iterable[Observer]) -> None:
        self._observers = list(observers)
        self._telling = threading.Lock()

    def tell(self, event: Event) -> None:
        with self._telling:
            for observer in self._observers:
                observer(event)
