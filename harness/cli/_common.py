"""What every task shares: its config, its stack, its errors as one line, a private run."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from invoke import Exit

from harness import settings
from harness.config import HarnessConfig, load_config
from harness.exceptions import HarnessError
from harness.infra import RunState, mask_secrets
from harness.stack import Observer, Stack, Teardown, private_run

Task = TypeVar("Task", bound=Callable[..., Any])


def reports_errors(function: Task) -> Task:
    """Turn a HarnessError into `Exit(message, code=1)`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except HarnessError as exc:
            raise Exit(f"harness: {mask_secrets(str(exc))}", code=1) from None
        except KeyboardInterrupt:
            raise Exit(
                "harness: interrupted; everything this command started was stopped", code=130
            ) from None

    return wrapper  # type: ignore[return-value]


def project(config: str) -> HarnessConfig:
    """`[tool.harness]` of the project, its code importable here (`pythonpath`)."""
    harness_config = load_config(config)
    harness_config.make_importable()
    return harness_config


def run_stack(run: str | None, config: str, observers: Iterable[Observer] = ()) -> Stack:
    """The stack of run `run` (default: `$HARNESS_RUN`, else the default run)."""
    return Stack(project(config), settings.run_id(run), observers)


def print_teardown(report: Teardown) -> None:
    stopped = ", ".join(report.stopped) or "nothing was running"
    state = "stopped, still owing what is below" if report.owed else "down"
    print(f"run {report.run_id!r} {state}: stopped {stopped}")
    for note in report.notes:
        print(f"  note: {note}")
    for problem in report.problems:
        print(f"  problem: {mask_secrets(problem)}", file=sys.stderr)


@contextlib.contextmanager
def private_stack(
    harness_config: HarnessConfig,
    purpose: str,
    db: str | None,
    *,
    auto_ports: bool = False,
    database_only: bool = False,
) -> Iterator[RunState]:
    """A run of this task's own (`<purpose>-<pid>`) on `db` (default: the first back end),
    taken down on the way out; only a teardown with problems is reported."""
    backend = db or harness_config.backends[0]
    with private_run(
        harness_config,
        f"{purpose}-{os.getpid()}",
        backend,
        print_teardown,
        auto_ports=auto_ports,
        database_only=database_only,
    ) as state:
        yield state


COMMON_HELP = {
    "run": f"run id (default: ${settings.RUN_VARIABLE} or {settings.DEFAULT_RUN!r})",
    "config": "pyproject.toml holding [tool.harness]",
}
DB_HELP = "back end: sqlite or postgres (default: the first of [tool.harness] backends)"
