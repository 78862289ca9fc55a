"""Builders for the toolkit's tests: configs of fixture services, and cleanliness checks."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401  httpx imports it lazily; pytester would unload a late import
import psutil
import pytest

from harness.config._project import HarnessConfig, parse_config
from harness.db._databases import admin_conninfo
from harness.exceptions import ConfigError, HarnessError
from harness.infra._ports import is_port_free
from harness.infra._processes import tagged_processes
from harness.infra._state import RunState
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack._stack import Stack

pytest_plugins = ["pytester"]
APP = Path(__file__).parent / "fixtures" / "app.py"


QUIET_START = 0.02  # seconds a trivial Python process (-S) takes to start and exit, unloaded
_REMEASURE_AFTER = 30.0
_slowness: list[tuple[float, float]] = []  # (when measured, factor)


def trivial_start_seconds() -> float:
    """How long a trivial Python process takes to start and exit here, now (median of 3)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COVERAGE_PROCESS_START",)}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-S", "-c", "pass"], check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def patience(seconds: float) -> float:
    """A deadline against a hang: `seconds` on a quiet machine, stretched by how much
    slower than `QUIET_START` a trivial process starts now (re-measured every 30 s), so a
    busy machine gets the time it needs and a quiet one does not wait longer."""
    now = time.monotonic()
    if not _slowness or now - _slowness[-1][0] > _REMEASURE_AFTER:
        _slowness.append((now, max(1.0, trivial_start_seconds() / QUIET_START)))
    return seconds * _slowness[-1][1]


def app_command(mode: str = "healthy", *extra: str) -> list[str]:
    return ["{python}", str(APP), "--port", "{port}", "--mode", mode, *extra]


def config_error(table: dict, root: Path) -> str:
    """The one-line message `parse_config` refuses `table` with."""
    with pytest.raises(ConfigError) as caught:
        parse_config(table, root=root)
    message = str(caught.value)
    assert "\n" not in message
    return message


def delay_command(delay_ms: float, *extra: str) -> list[str]:
    """A harness.testing.delay_server service answering after `delay_ms`."""
    return [
        "{python}",
        "-m",
        "harness.testing.delay_server",
        "--port",
        "{port}",
        "--delay-ms",
        str(delay_ms),
        *extra,
    ]


def redis_server(ready: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A real redis-server as a `[tool.harness.servers]` table: 127.0.0.1, no persistence,
    its process title left alone (so its environment keeps the run token)."""
    return {
        "command": [
            "redis-server",
            "--port",
            "{port}",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "{dir}",
            "--set-proc-title",
            "no",
        ],
        "ready": ready or {"command": ["redis-cli", "-p", "{port}", "ping"]},
        "url": "redis://127.0.0.1:{port}",
        "install_hint": "apt-get install redis-server",
        **overrides,
    }


def invoke(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`invoke ARGS` run in `directory`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def interruptible(module_args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """`python -m MODULE ARGS` with Ctrl-C (SIGINT) at its default, as in a terminal (a
    background job of a non-interactive shell ignores it, and so would its children: a
    test sending SIGINT would then wait for nothing), its output piped; outside the run
    of the Nox session running these tests ($HARNESS_RUN)."""
    return subprocess.Popen(
        [sys.executable, "-m", *module_args],
        cwd=cwd,
        env={name: value for name, value in os.environ.items() if name != "HARNESS_RUN"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.fixture
def make_config(tmp_path: Path) -> Iterator[Callable[..., HarnessConfig]]:
    """`make_config(services={...}, **top)`: a validated config rooted in tmp_path.

    After the test, any run still recorded under a config's run directory is taken down,
    so a test that fails half-way leaves no process behind.
    """
    made: list[HarnessConfig] = []

    def make(services: dict[str, dict[str, Any]], **top: Any) -> HarnessConfig:
        table = {"start_timeout": patience(10.0), "stop_timeout": 2.0, **top, "services": services}
        made.append(parse_config(table, root=tmp_path))
        return made[-1]

    yield make
    for config in made:
        take_down_leftover_runs(config)


def take_down_leftover_runs(config: HarnessConfig) -> None:
    """`down` every run whose state is still recorded under `config`'s run directory."""
    runs = config.run_dir / "runs"
    for run in sorted(runs.iterdir()) if runs.is_dir() else []:
        stack = Stack(config, run.name)
        if stack.run.exists():
            with contextlib.suppress(HarnessError):  # a state a test corrupted on purpose
                stack.down()


@pytest.fixture
def two_services(make_config: Callable[..., HarnessConfig]) -> HarnessConfig:
    return make_config(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "beta": {
                "command": app_command("healthy", "--name", "beta", "--needs", "ALPHA_SERVICE_URL"),
                "depends_on": ["alpha"],
            },
        }
    )


def assert_nothing_left(state: RunState) -> None:
    """No process of the run alive (services and servers) and every port it used free."""
    for record in state.processes():
        assert not record.process.matches(), f"{record.name} (pid {record.process.pid}) left"
        assert is_port_free(record.port), f"port {record.port} of {record.name} still held"
    assert tagged_processes(state.token) == []
    if state.database is not None and state.database.cluster is not None:
        assert not state.database.cluster.matches()


def leaky_history(directory: Path) -> Path:
    """An Alembic history whose env.py fails with the URL it was given in the message."""
    (directory / "versions").mkdir(parents=True)
    (directory / "env.py").write_text(
        "from alembic import context\n"
        'raise RuntimeError("cannot migrate " + context.config.get_main_option("sqlalchemy.url"))\n'
    )
    return directory


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def no_server_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POSTGRES_URL_VARIABLE, raising=False)


@pytest.fixture
def server(make_config: Callable[..., HarnessConfig], no_server_url: None) -> Iterator[str]:
    """A real PostgreSQL server (a harness throwaway cluster) for the URL-based tests."""
    stack = Stack(make_config({"pg": {"command": app_command(), "database": True}}), "server")
    state = stack.up("postgres", auto_ports=True, detach=True)
    assert state.database is not None
    yield admin_conninfo(state.database)  # postgresql://postgres:<its secret>@127.0.0.1:…
    assert stack.down().ok
    assert_nothing_left(state)


def write_pyproject(directory: Path, services: str) -> Path:
    """A project in `directory`: the harness tasks and `[tool.harness]` with `services`."""
    (directory / "tasks.py").write_text("from harness.cli import namespace\n")
    path = directory / "pyproject.toml"
    path.write_text(f"[tool.harness]\nstop_timeout = 2\n{services}")
    return path


def command_toml(mode: str = "healthy") -> str:
    """The test app in `mode`, as a TOML array for a service's `command`."""
    return "[" + ", ".join(f'"{arg}"' for arg in app_command(mode)) + "]"


@pytest.fixture
def publisher(make_config: Callable[..., HarnessConfig]) -> Iterator[dict[str, str]]:
    """The publisher service running as a harness run: its URLs by service name."""
    command = [
        "{python}", "-m", "uvicorn", "--app-dir", str(APP.parent), "publisher:app",
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
