"""What the perf wing's tests share: a real publish/subscribe service, and a recorder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.config._project import HarnessConfig
from harness.stack._stack import Stack

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def publisher(make_config: Callable[..., HarnessConfig]) -> Iterator[dict[str, str]]:
    """The publisher service running as a harness run: its URLs by service name."""
    command = [
        "{python}", "-m", "uvicorn", "--app-dir", str(FIXTURES), "publisher:app",
        "--host", "127.0.0.1", "--port", "{port}",
    ]  # fmt: skip
    stack = Stack(make_config({"publisher": {"command": command, "health": "/health"}}), "pub")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    yield {name: record.url for name, record in state.services.items()}
    stack.down()


class Samples:
    """A `Recorder` keeping what it is told."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors: list[str] = []

    def record(self, window: int, seconds: float, error: str | None) -> None:
        if error is None:
            self.times.append(seconds)
        else:
            self.errors.append(error)
