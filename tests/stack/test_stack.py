"""The stack with real processes and sockets: start, stop, and every way they go wrong."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import pytest

from conftest import APP, app_command, assert_nothing_left, patience, pid_alive
from harness import settings
from harness.db import _databases as databases
from harness.exceptions import HarnessError, PortInUseError, RunStateError, ServiceStartError
from harness.infra import _ports as ports
from harness.infra._ports import is_port_free, unbound_port
from harness.infra._processes import tagged_processes
from harness.infra._state import RunState
from harness.stack._stack import Stack, clean_stale_runs

OWNER = Path(__file__).parents[1] / "fixtures" / "owner.py"


def test_up_starts_in_dependency_order_wires_env_and_down_leaves_nothing(two_services):
    stack = Stack(two_services, "wiring")

    state = stack.up("sqlite", auto_ports=True)

    alpha, beta = state.services["alpha"], state.services["beta"]
    env = httpx.get(beta.url + "/env").json()
    assert env["PORT"] == str(beta.port)
    assert env["ALPHA_SERVICE_URL"] == alpha.url
    assert env["BETA_SERVICE_URL"] == beta.url
    assert "DATABASE_URL" not in env  # beta does not use the database
    assert env["HARNESS_RUN_TOKEN"] == state.token
    assert (two_services.run_dir / "runs" / "wiring" / "logs" / "beta.log").is_file()
    saved = RunState.from_json(stack.run.state_path.read_text())
    assert saved.phase == "up"
    assert saved.services["beta"].process == beta.process
    assert saved.services["beta"].url == f"http://127.0.0.1:{beta.port}"

    report = stack.down()

    assert report.ok, report.problems
    assert sorted(report.stopped) == ["alpha", "beta"]
    assert_nothing_left(state)
    assert not stack.run.path.exists()
    assert "listening" in (two_services.run_dir / "logs" / "wiring" / "beta.log").read_text()


def test_database_services_get_database_url(make_config):
    config = make_config({"api": {"command": app_command(), "database": True}})
    stack = Stack(config, "db-url")
    state = stack.up("sqlite", auto_ports=True)
    try:
        env = httpx.get(state.services["api"].url + "/env").json()
        assert env["DATABASE_URL"] == f"sqlite:///{state.database.name}"
        assert Path(state.database.name).name == "database.sqlite3"
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_a_service_that_exits_at_start_fails_fast_with_exit_code_and_log(make_config):
    config = make_config(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "broken": {
                "command": app_command("exit", "--name", "broken"),
                "start_timeout": 30,
                "depends_on": ["alpha"],  # so alpha is up (and has said so) when broken fails
            },
        }
    )
    stack = Stack(config, "exits")

    with pytest.raises(ServiceStartError) as caught:
        stack.up("sqlite", auto_ports=True)

    error = caught.value
    assert error.service == "broken"
    assert error.exit_code == 3
    assert "fatal: SETTING_X is missing" in error.log_tail
    assert "exit code: 3" in str(error)
    assert not stack.run.path.exists()
    logs = config.run_dir / "logs" / "exits"
    assert "listening" in (logs / "alpha.log").read_text()  # alpha was up, then stopped
    alpha_port = int((logs / "alpha.log").read_text().split("listening on ")[1].split()[0])
    assert is_port_free(alpha_port)


def test_a_service_that_never_gets_healthy_fails_at_its_deadline(make_config):
    config = make_config({"slow": {"command": app_command("never-healthy"), "start_timeout": 1}})
    stack = Stack(config, "never")

    with pytest.raises(ServiceStartError, match=r"not healthy after 1 s .*HTTP 503"):
        stack.up("sqlite", auto_ports=True)

    assert not stack.run.path.exists()
    assert list((config.run_dir / "ports").iterdir()) == []


def test_a_health_path_answering_a_steady_404_fails_at_once_naming_the_path(make_config):
    """No deadline is waited out (it is an hour here): a wrong path never gets healthy."""
    config = make_config(
        {"lost": {"command": app_command(), "health": "/healthz", "start_timeout": 3600}}
    )
    stack = Stack(config, "lost")

    with pytest.raises(ServiceStartError) as raised:
        stack.up("sqlite", auto_ports=True)

    message = str(raised.value)
    assert "health path answers HTTP 404 (5 times in a row)" in message
    assert "/healthz" in message and "tool.harness.services.lost.health" in message
    assert "raise start_timeout" not in message
    assert not stack.run.path.exists()


def test_prestart_steps_run_in_order_with_the_services_environment_before_it(make_config, tmp_path):
    marks = tmp_path / "marks"
    step = [
        sys.executable,
        "-c",
        f"import os; open({str(marks)!r}, 'a').write(os.environ['PORT'] + ' {{n}}\\n')",
    ]
    config = make_config(
        {
            "seeded": {
                "command": app_command(),
                "prestart": [[a.replace("{n}", n) for a in step] for n in ("1", "2")],
            }
        }
    )
    stack = Stack(config, "seeded")

    state = stack.up("sqlite", auto_ports=True)
    try:
        port = state.services["seeded"].port
        assert marks.read_text().splitlines() == [f"{port} 1", f"{port} 2"]
    finally:
        stack.down()


def test_a_failing_prestart_step_is_a_start_error_with_its_output(make_config):
    fail = [sys.executable, "-c", "print('admin user exists already'); raise SystemExit(7)"]
    config = make_config({"seeded": {"command": app_command(), "prestart": fail}})
    stack = Stack(config, "badseed")

    with pytest.raises(ServiceStartError) as raised:
        stack.up("sqlite", auto_ports=True)

    assert "its prestart step" in str(raised.value) and raised.value.exit_code == 7
    assert "admin user exists already" in raised.value.log_tail
    assert not stack.run.path.exists()
    assert list((config.run_dir / "ports").iterdir()) == []


def test_a_command_that_does_not_exist_is_a_start_error(make_config):
    config = make_config({"ghost": {"command": ["/nonexistent/binary", "{port}"]}})

    with pytest.raises(ServiceStartError, match="cannot run '/nonexistent/binary'"):
        Stack(config, "ghost").up("sqlite", auto_ports=True)


def test_a_service_that_ignores_sigterm_is_killed_after_its_grace(make_config):
    config = make_config({"stubborn": {"command": app_command("ignore-term"), "stop_timeout": 0.5}})
    stack = Stack(config, "stubborn")
    state = stack.up("sqlite", auto_ports=True)

    report = stack.down()

    assert report.ok, report.problems
    assert_nothing_left(state)


def test_a_grandchild_that_left_the_process_group_is_found_by_its_run_token(make_config):
    config = make_config({"leaky": {"command": app_command("grandchild")}})
    stack = Stack(config, "leaky")
    state = stack.up("sqlite", auto_ports=True)

    report = stack.down()

    assert any("escaped its process group" in problem for problem in report.problems)
    assert_nothing_left(state)


def test_a_port_held_by_another_program_is_named_and_that_program_left_alone(make_config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    holder = subprocess.Popen(
        [sys.executable, str(APP), "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert "listening" in holder.stdout.readline() + holder.stdout.readline()
        config = make_config({"api": {"command": app_command(), "port": port}})
        stack = Stack(config, "held")

        with pytest.raises(PortInUseError) as caught:
            stack.up("sqlite")

        message = str(caught.value)
        assert f"port {port} (tool.harness.services.api.port)" in message
        assert f"pid {holder.pid}: " in message and str(APP) in message
        assert "--auto-ports" in message
        assert holder.poll() is None  # never killed for holding a port
        assert not stack.run.path.exists()

        state = stack.up("sqlite", auto_ports=True)  # the way out the message names
        assert state.services["api"].port != port
        assert stack.down().ok
    finally:
        holder.kill()
        holder.wait()


def test_up_on_a_run_already_up_says_so_and_leaves_it_running(two_services):
    stack = Stack(two_services, "twice")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        with pytest.raises(RunStateError, match="already up"):
            Stack(two_services, "twice").up("sqlite", auto_ports=True)
        assert all(record.process.matches() for record in state.services.values())
    finally:
        assert stack.down().ok


def owner_process(config_table: dict, root: Path, run_id: str) -> subprocess.Popen[str]:
    owner = subprocess.Popen(
        [sys.executable, str(OWNER), str(root), run_id, "sqlite", json.dumps(config_table)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "up"
    return owner


TWO_SERVICES = {
    "services": {
        "alpha": {"command": app_command("healthy", "--name", "alpha")},
        "beta": {"command": app_command("healthy", "--name", "beta"), "depends_on": ["alpha"]},
    }
}


@pytest.mark.parametrize("cleaner", ["up", "down", "ports.clean"])
def test_a_run_whose_owner_was_killed_is_cleaned_by_the_next_command(
    tmp_path, make_config, cleaner
):
    config = make_config(TWO_SERVICES["services"])
    owner = owner_process(TWO_SERVICES, tmp_path, "crashed")
    stale = Stack(config, "crashed").run.load()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert stale.is_stale()
    assert all(record.process.matches() for record in stale.services.values())

    stack = Stack(config, "crashed")
    if cleaner == "up":
        fresh = stack.up("sqlite", auto_ports=True)
        assert fresh.token != stale.token
        assert stack.down().ok
    elif cleaner == "down":
        assert stack.down().ok
    else:
        reports = clean_stale_runs(config)
        assert [report.run_id for report in reports] == ["crashed"]

    assert_nothing_left(stale)


def test_a_recycled_pid_is_never_signalled(two_services):
    stack = Stack(two_services, "recycled")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    real_alpha = state.services["alpha"].process
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        forged = state.services["alpha"]
        forged.process = type(real_alpha)(bystander.pid, real_alpha.started, real_alpha.cmdline)
        stack.run.save(state)

        report = stack.down()

        assert pid_alive(bystander.pid)  # the pid matched, its start time did not
        assert f"pid {real_alpha.pid} escaped its process group; killed" in report.problems
        assert not pid_alive(real_alpha.pid)  # found by the run token instead
    finally:
        bystander.kill()
        bystander.wait()


def test_a_free_port_is_never_a_port_configured_for_another_service(make_config, monkeypatch):
    configured, spare = unbound_port(), unbound_port()
    offered = iter([configured, spare])  # the OS offers the configured port first
    monkeypatch.setattr(ports, "unbound_port", lambda: next(offered))
    config = make_config(
        {
            "free": {"command": app_command("healthy", "--name", "free")},
            "fixed": {"command": app_command("healthy", "--name", "fixed"), "port": configured},
        }
    )
    stack = Stack(config, "mixed")

    state = stack.up("sqlite")

    assert state.services["fixed"].port == configured
    assert state.services["free"].port == spare
    for record in state.services.values():
        assert httpx.get(record.url + "/health").status_code == 200
    assert stack.down().ok
    assert_nothing_left(state)


def test_two_runs_at_once_get_disjoint_ports_state_and_logs(two_services):
    results: dict[str, RunState] = {}
    errors: list[BaseException] = []

    def start(run_id: str) -> None:
        try:
            results[run_id] = Stack(two_services, run_id).up("sqlite", auto_ports=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(run,)) for run in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        left = {r.port for r in results["left"].services.values()}
        right = {r.port for r in results["right"].services.values()}
        assert left.isdisjoint(right)
        assert results["left"].token != results["right"].token
        for state in results.values():
            for record in state.services.values():
                assert httpx.get(record.url + "/health").status_code == 200
    finally:
        for run_id in results:
            assert Stack(two_services, run_id).down().ok
    for state in results.values():
        assert_nothing_left(state)


def test_restart_brings_one_service_back_on_the_same_port(two_services):
    stack = Stack(two_services, "restart")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        before = state.services["beta"]

        after = stack.restart("beta")

        assert after.port == before.port
        assert after.process.pid != before.process.pid
        assert not before.process.matches()
        assert httpx.get(after.url + "/health").status_code == 200
        assert stack.run.load().services["beta"].process == after.process
        with pytest.raises(RunStateError, match="no service 'gamma'"):
            stack.restart("gamma")
    finally:
        final = stack.run.load()
        assert stack.down().ok
    assert_nothing_left(final)


def test_sigterm_during_up_stops_what_was_started(tmp_path, make_config):
    config = make_config(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "slow": {
                "command": app_command("never-healthy"),
                "start_timeout": 30,
                "depends_on": ["alpha"],
            },
        }
    )
    table = {
        "services": {
            name: {
                "command": service.command,
                "start_timeout": 30,
                "depends_on": list(service.depends_on),
            }
            for name, service in config.services.items()
        }
    }
    starter = subprocess.Popen(
        [sys.executable, str(OWNER), str(tmp_path), "interrupted", "sqlite", json.dumps(table)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stack = Stack(config, "interrupted")
    state = _wait_for_service(stack, "slow")

    starter.send_signal(signal.SIGTERM)
    _, stderr = starter.communicate(timeout=patience(30))

    assert starter.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert_nothing_left(state)
    assert not stack.run.path.exists()


def _wait_for_service(stack: Stack, name: str) -> RunState:
    deadline = time.monotonic() + patience(20)
    while time.monotonic() < deadline:
        if stack.run.exists():
            state = stack.run.load()
            if name in state.services:
                return state
        time.sleep(0.02)
    raise AssertionError(f"{name} never started")


def test_an_extra_instance_is_wired_like_the_run_but_for_its_overrides(two_services):
    stack = Stack(two_services, "instance")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        extra = stack.start_instance("beta", {"BETA_SERVICE_URL": "http://127.0.0.1:9"}, "beta-x")

        env = httpx.get(extra.url + "/env").json()
        assert env["BETA_SERVICE_URL"] == "http://127.0.0.1:9"
        assert env["ALPHA_SERVICE_URL"] == state.services["alpha"].url  # the run's own wiring
        assert env["PORT"] == str(extra.port) != str(state.services["beta"].port)
        assert stack.run.load().services["beta"] == state.services["beta"]  # left untouched
        assert extra.name == "beta" and extra.log_path.endswith("beta-x.log")

        stack.stop_instance(extra)
        assert not extra.process.matches()
        assert is_port_free(extra.port)
        assert httpx.get(state.services["beta"].url + "/health").status_code == 200
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_a_killed_instance_is_gone_and_stopping_it_after_gives_its_port_back(two_services):
    stack = Stack(two_services, "instance-killed")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        extra = stack.start_instance("alpha", {}, "alpha-x")

        stack.kill_instance(extra)

        assert not extra.process.matches()
        stack.stop_instance(extra)  # what the fixture does after the test: no error
        assert is_port_free(extra.port)
        assert httpx.get(state.services["alpha"].url + "/health").status_code == 200
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_an_extra_instance_left_running_is_stopped_by_down(two_services):
    stack = Stack(two_services, "instance-left")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    extra = stack.start_instance("alpha", {}, "alpha-x")

    report = stack.down()

    assert not extra.process.matches()
    assert is_port_free(extra.port)
    assert report.problems == [f"pid {extra.process.pid} escaped its process group; killed"]
    assert_nothing_left(state)


def test_an_extra_instance_of_an_unknown_service_is_a_clear_error(two_services):
    stack = Stack(two_services, "instance-unknown")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        with pytest.raises(RunStateError, match="no service 'gamma'"):
            stack.start_instance("gamma", {}, "gamma-x")
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_an_extra_instance_that_cannot_start_says_why_and_leaves_nothing(two_services):
    stack = Stack(two_services, "instance-broken")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        with pytest.raises(ServiceStartError, match="dependency ALPHA_SERVICE_URL not up"):
            stack.start_instance("beta", {"ALPHA_SERVICE_URL": "http://127.0.0.1:9"}, "beta-x")
        assert processes_tagged_beyond(state) == []
    finally:
        assert stack.down().ok  # no escaped process reported: the failed instance was stopped
    assert_nothing_left(state)


def test_an_extra_instance_whose_command_cannot_run_gives_its_port_back(two_services):
    stack = Stack(two_services, "instance-unrunnable")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    reserved = sorted((two_services.run_dir / "ports").iterdir())
    alpha = replace(two_services.services["alpha"], command=("/nonexistent/alpha-server",))
    broken = Stack(
        replace(two_services, services={**two_services.services, "alpha": alpha}),
        "instance-unrunnable",
    )
    try:
        with pytest.raises(ServiceStartError, match="cannot run '/nonexistent/alpha-server'"):
            broken.start_instance("alpha", {}, "alpha-x")
        assert sorted((two_services.run_dir / "ports").iterdir()) == reserved
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def processes_tagged_beyond(state: RunState) -> list[int]:
    """Pids carrying the run's token that are not its recorded services."""
    recorded = {record.process.pid for record in state.services.values()}
    return [p.pid for p in tagged_processes(state.token) if p.pid not in recorded]


@pytest.mark.parametrize("mode, noticed", [("healthy", True), ("uses-database", False)])
def test_a_database_service_that_never_used_the_run_database_is_noticed_at_down(
    make_config, no_server_url, mode, noticed
):
    """As a service that reads POSTGRES_* settings of its own instead of DATABASE_URL."""
    config = make_config({"api": {"command": app_command(mode), "database": True}})
    stack = Stack(config, f"db-{mode}")
    stack.up("postgres", auto_ports=True)

    report = stack.down()

    assert report.ok, report.problems
    if noticed:
        [notice] = report.notes
        assert "no service used the run's database harness_db_" in notice
        assert "api set database = true: do they read DATABASE_URL" in notice
    else:
        assert report.notes == []


MIGRATION_FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrations"


def migrated_by(make_config, history: str):
    """A one-service config whose database is migrated by fixture history `history`."""
    service = {"command": app_command(), "database": True}
    return make_config({"api": {**service, "migrations": str(MIGRATION_FIXTURES / history)}})


def test_up_migrates_with_an_env_py_that_connects_itself_to_the_url_it_is_given(make_config):
    """Alembic's own template connects to `sqlalchemy.url` itself: the run's database."""
    stack = Stack(migrated_by(make_config, "ignores_connection"), "own-engine")

    state = stack.up("sqlite", auto_ports=True)
    try:
        tables = sqlite3.connect(state.database.name).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        assert "fixture_version" in {row[0] for row in tables}
    finally:
        assert stack.down().ok


def test_up_refuses_an_env_py_that_connects_to_a_database_of_its_own(
    make_config, tmp_path, monkeypatch
):
    """As an env.py that builds its URL from the project's settings: never reached."""
    own = tmp_path / "development.sqlite3"
    monkeypatch.setenv("FIXTURE_OWN_DATABASE_URL", f"sqlite:///{own}")
    stack = Stack(migrated_by(make_config, "own_url_from_environment"), "own-url")

    with pytest.raises(HarnessError, match="refused before it connected"):
        stack.up("sqlite", auto_ports=True)

    assert not own.exists()  # SQLite would have made the file on connecting
    assert not stack.run.path.exists()


def test_a_service_gets_only_the_database_url_it_needs(make_config, server, monkeypatch):
    monkeypatch.setenv(settings.POSTGRES_URL_VARIABLE, server)  # the admin URL: harness's own
    monkeypatch.setenv("DATABASE_URL", "sqlite:////somewhere/else.sqlite3")  # the shell's
    config = make_config(
        {
            "api": {"command": app_command(), "database": True},
            "plain": {"command": app_command()},
        }
    )
    stack = Stack(config, "least")
    state = stack.up("postgres", auto_ports=True)
    try:
        api = httpx.get(state.services["api"].url + "/env").json()
        plain = httpx.get(state.services["plain"].url + "/env").json()
    finally:
        assert stack.down().ok
    assert state.database is not None
    assert api["DATABASE_URL"] == databases.service_url(state.database, config)
    assert settings.POSTGRES_URL_VARIABLE not in api
    assert "DATABASE_URL" not in plain and settings.POSTGRES_URL_VARIABLE not in plain


class _InBackground:
    """`call()` in a thread of its own; `result()` waits for it and returns or raises."""

    def __init__(self, call):
        self._outcome: list = []
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call) -> None:
        try:
            self._outcome.append((True, call()))
        except BaseException as exc:
            self._outcome.append((False, exc))

    def result(self, timeout: float = 120):
        self._thread.join(timeout)
        assert self._outcome, "still running"
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


def _once_healthy(stack: Stack, name: str) -> RunState:
    """The run's state as soon as service `name` is recorded and answers its health check
    (no deadline on speed: only one against a hang)."""
    deadline = time.monotonic() + patience(60)
    while time.monotonic() < deadline:
        if stack.run.exists():
            state = stack.run.load()
            record = state.services.get(name)
            if record is not None:
                try:
                    if httpx.get(record.url + "/health", timeout=1).status_code == 200:
                        return state
                except httpx.TransportError:
                    pass
        time.sleep(0.02)
    raise AssertionError(f"{name} never became healthy")


def _needing(dependency: str) -> dict:
    """A service that depends on `dependency` and exits at start unless it answers."""
    variable = f"{dependency.upper()}_SERVICE_URL"
    return {"command": app_command("healthy", "--needs", variable), "depends_on": [dependency]}


def _health(record) -> int:
    return httpx.get(record.url + "/health", timeout=5).status_code


def test_a_slow_dependency_holds_back_its_own_dependants_and_nothing_else(make_config, tmp_path):
    gate = tmp_path / "slow-may-be-healthy"
    config = make_config(
        {
            "slow": {
                "command": app_command("healthy", "--name", "slow", "--healthy-when", str(gate)),
                "start_timeout": 120,
            },
            "fast": {"command": app_command("healthy", "--name", "fast")},
            "after-fast": _needing("fast"),
            "after-slow": _needing("slow"),
        }
    )
    stack = Stack(config, "overlap")
    up = _InBackground(lambda: stack.up("sqlite", auto_ports=True))
    try:
        meanwhile = _once_healthy(stack, "after-fast")

        assert _health(meanwhile.services["slow"]) == 503  # still starting ...
        assert "after-slow" not in stack.run.load().services  # ... so its dependant waits
    finally:
        gate.touch()
    state = up.result()
    try:
        # after-slow exits at start unless slow answered: it started after, not before
        assert all(_health(record) == 200 for record in state.services.values())
        assert state.services["after-slow"].depends_on == ["slow"]
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def _gated_history(directory: Path, gate: Path) -> Path:
    """A one-table Alembic history whose migration waits until `gate` exists."""
    history = directory / "gated"
    (history / "versions").mkdir(parents=True)
    env = (Path(__file__).parents[1] / "fixtures" / "history" / "env.py").read_text()
    (history / "env.py").write_text(env)
    (history / "versions" / "0001_gated.py").write_text(
        "import pathlib, time\n"
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        'revision = "0001"\n'
        "down_revision = None\n"
        "branch_labels = None\n"
        "depends_on = None\n"
        "def upgrade():\n"
        "    deadline = time.monotonic() + 120\n"
        f"    while not pathlib.Path({str(gate)!r}).exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        '    op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))\n'
        "def downgrade():\n"
        '    op.drop_table("widgets")\n'
    )
    return history


def test_services_without_the_database_start_while_it_is_migrated(make_config, tmp_path):
    gate = tmp_path / "migration-may-finish"
    config = make_config(
        {
            "web": {"command": app_command("healthy", "--name", "web")},
            "api": {
                "command": app_command("healthy", "--name", "api"),
                "database": True,
                "migrations": str(_gated_history(tmp_path, gate)),
                "start_timeout": 120,
            },
            "front": _needing("api"),  # no database of its own, but api needs it
        }
    )
    stack = Stack(config, "overlap-db")
    up = _InBackground(lambda: stack.up("sqlite", auto_ports=True))
    try:
        meanwhile = _once_healthy(stack, "web")

        assert meanwhile.database is not None  # provisioned, and recorded ...
        tables = sqlite3.connect(meanwhile.database.name).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        assert "widgets" not in {row[0] for row in tables}  # ... but not migrated yet
        assert set(stack.run.load().services) == {"web"}
    finally:
        gate.touch()
    state = up.result()
    try:
        assert all(_health(record) == 200 for record in state.services.values())
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_a_failure_while_the_cluster_is_provisioned_still_leaves_nothing(
    make_config, no_server_url
):
    """A service with no database fails at once, while the throwaway cluster is still
    being set up in its thread: the start waits for that, then takes it all down."""
    config = make_config(
        {
            "broken": {"command": app_command("exit", "--name", "broken")},
            "api": {"command": app_command("healthy", "--name", "api"), "database": True},
        }
    )
    stack = Stack(config, "fails-early")

    with pytest.raises(ServiceStartError) as caught:
        stack.up("postgres", auto_ports=True)

    assert caught.value.service == "broken"
    assert not stack.run.path.exists()
    assert (config.run_dir / "logs" / "fails-early" / "postgres.log").exists()  # it was made
    left = [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if any("harness-fails-early-" in part for part in process.info["cmdline"] or [])
    ]
    assert left == []  # no postgres of the run's cluster
    assert not list(Path("/dev/shm").glob("harness-fails-early-*"))
    assert not list((config.run_dir).glob("harness-fails-early-*"))
