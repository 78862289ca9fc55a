"""pytest plugin (entry point `pytest11: harness`): the live stack as fixtures.

`harness_stack` attaches to the run named by `--harness-run` / `$HARNESS_RUN` when it is
up (as in the Nox sessions, after `invoke services.up`); otherwise it brings a stack up
itself on free ports and takes it down at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.config import BACKENDS, load_config
from harness.signals import sigterm_raises
from harness.stack import Stack
from harness.state import RunState

RUN_VARIABLE = "HARNESS_RUN"
DB_VARIABLE = "HARNESS_DB"
CLIENT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class RunningStack:
    """The stack the tests run against."""

    run_id: str
    backend: str
    database_url: str
    urls: dict[str, str]

    @classmethod
    def from_state(cls, state: RunState) -> RunningStack:
        return cls(
            run_id=state.run_id,
            backend=state.backend,
            database_url=state.database.display_url if state.database else "",
            urls={name: record.url for name, record in state.services.items()},
        )


class ServiceClients:
    """One httpx.Client per service, made on first use: `service_clients["records"]`."""

    def __init__(self, urls: dict[str, str]) -> None:
        self._urls = urls
        self._clients: dict[str, httpx.Client] = {}

    def __getitem__(self, name: str) -> httpx.Client:
        if name not in self._urls:
            raise KeyError(f"no service {name!r} in the stack; services: {sorted(self._urls)}")
        if name not in self._clients:
            self._clients[name] = httpx.Client(
                base_url=self._urls[name], timeout=CLIENT_TIMEOUT, trust_env=False
            )
        return self._clients[name]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: the live service stack")
    group.addoption(
        "--harness-run",
        default=os.environ.get(RUN_VARIABLE),
        help=f"run id of a stack already up (default: ${RUN_VARIABLE})",
    )
    group.addoption(
        "--harness-db",
        default=os.environ.get(DB_VARIABLE, "sqlite"),
        choices=BACKENDS,
        help=f"back end when harness starts the stack (${DB_VARIABLE})",
    )
    group.addoption(
        "--harness-config",
        default=None,
        help="pyproject.toml with [tool.harness] (default: the one at rootdir)",
    )


@pytest.fixture(scope="session")
def harness_stack(
    request: pytest.FixtureRequest, record_testsuite_property: Callable[[str, object], None]
) -> Iterator[RunningStack]:
    """The running stack: attached to `--harness-run`, or brought up for this session."""
    options = request.config.option
    config_path = options.harness_config or Path(request.config.rootpath) / "pyproject.toml"
    config = load_config(config_path)
    run_id = options.harness_run
    if run_id:
        stack = Stack(config, run_id)
        if stack.run.exists():
            state = stack.run.load()
            if not state.is_stale() and state.phase == "up":
                yield _recorded(RunningStack.from_state(state), record_testsuite_property)
                return
    stack = Stack(config, run_id or f"pytest-{os.getpid()}")
    with sigterm_raises():
        state = stack.up(options.harness_db, auto_ports=True)
        try:
            yield _recorded(RunningStack.from_state(state), record_testsuite_property)
        finally:
            report = stack.down()
            if not report.ok:
                pytest.fail("harness teardown: " + "; ".join(report.problems), pytrace=False)


def _recorded(
    stack: RunningStack, record_testsuite_property: Callable[[str, object], None]
) -> RunningStack:
    record_testsuite_property("harness.backend", stack.backend)
    record_testsuite_property("harness.run_id", stack.run_id)
    return stack


@pytest.fixture(scope="session")
def harness_backend(harness_stack: RunningStack) -> str:
    """'sqlite' or 'postgres': the back end the stack runs on."""
    return harness_stack.backend


@pytest.fixture(scope="session")
def service_urls(harness_stack: RunningStack) -> dict[str, str]:
    """Base URL of every service, by name."""
    return harness_stack.urls


@pytest.fixture(scope="session")
def service_clients(harness_stack: RunningStack) -> Iterator[ServiceClients]:
    """An httpx.Client per service, by name, with its base URL set."""
    clients = ServiceClients(harness_stack.urls)
    yield clients
    clients.close()
