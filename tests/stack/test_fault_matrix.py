"""The fault matrix: every way a run can go wrong, against real processes, sockets and
PostgreSQL, each case counting afterwards what is left.

A case runs with a marker in its environment that every process it starts inherits, so
`Leftovers` counts exactly the case's own: processes still alive, ports it used still
listened on, run directories, port reservations, and databases on the shared server that
were not there before. Each case also checks that a bystander process and a database that
were never harness's are untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import psycopg
import pytest

import harness.stack._stack
from conftest import APP, app_command, interruptible, redis_server, take_down_leftover_runs
from harness.config._project import HarnessConfig, parse_config
from harness.db._clones import PostgresScratch
from harness.db._databases import admin_conninfo, database_name
from harness.exceptions import (
    BackendUnavailableError,
    HarnessError,
    PortInUseError,
    RunStateError,
    ServiceStartError,
)
from harness.infra._ports import is_port_free, unbound_port
from harness.infra._processes import ProcessRecord, processes_carrying, wait_exited
from harness.infra._state import RunDirectory, RunState
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack._stack import Stack, clean_stale_runs

MARKER = "HARNESS_FAULT_CASE"
OWNER = Path(__file__).parents[1] / "fixtures" / "owner.py"
PRECIOUS = "precious_not_harness"
API = {"api": {"command": app_command(), "database": True}}
TWO = {
    "alpha": {"command": app_command("healthy", "--name", "alpha")},
    "beta": {"command": app_command("healthy", "--name", "beta"), "depends_on": ["alpha"]},
}


@dataclass(frozen=True)
class Leftovers:
    """What a case left: each count must be 0 unless the case documents otherwise."""

    processes: int = 0
    listening: int = 0
    run_dirs: int = 0
    reservations: int = 0
    databases: frozenset[str] = frozenset()


@dataclass
class Server:
    """A PostgreSQL server for the cases (a harness cluster of its own, outside the cases)."""

    url: str

    def databases(self) -> set[str]:
        with psycopg.connect(self.url, autocommit=True) as admin:
            return {row[0] for row in admin.execute("SELECT datname FROM pg_database")}

    def execute(self, statement: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    config = parse_config({"services": API}, root=root)
    saved = os.environ.pop(POSTGRES_URL_VARIABLE, None)
    stack = Stack(config, "matrix-server")
    try:
        state = stack.up("postgres", database_only=True, detach=True)
        assert state.database is not None
        server = Server(admin_conninfo(state.database))
        server.execute(f"CREATE DATABASE {PRECIOUS}")
        yield server
    finally:
        take_down_leftover_runs(config)
        if saved is not None:
            os.environ[POSTGRES_URL_VARIABLE] = saved


@dataclass
class Case:
    """One fault case: its config, its marker, what it watched, and the bystanders."""

    config: HarnessConfig
    marker: str
    bystander: subprocess.Popen[bytes]
    server: Server | None = None
    ports: set[int] = field(default_factory=set)
    clusters: list[ProcessRecord] = field(default_factory=list)
    servers: list[ProcessRecord] = field(default_factory=list)
    databases_before: set[str] = field(default_factory=set)

    def watch(self, state: RunState) -> RunState:
        """Remember the ports, cluster and servers of `state`, to check they are gone at the
        end (a postmaster's children overwrite their environment, as a server that sets its
        process title does: the marker misses them)."""
        self.ports |= {record.port for record in state.processes()}
        self.servers += [record.process for record in state.servers.values()]
        if state.database is not None and state.database.cluster is not None:
            self.clusters.append(state.database.cluster)
            if state.database.cluster_port is not None:
                self.ports.add(state.database.cluster_port)
        return state

    def leftovers(self) -> Leftovers:
        runs = self.config.run_dir / "runs"
        reservations = self.config.run_dir / "ports"
        databases = self.server.databases() - self.databases_before if self.server else set()
        return Leftovers(
            processes=len(
                {process.pid for process in marked_processes(self.marker)}
                | {cluster.pid for cluster in self.clusters if cluster.matches()}
                | {server.pid for server in self.servers if server.matches()}
            ),
            listening=sum(not is_port_free(port) for port in self.ports),
            run_dirs=len([p for p in runs.iterdir() if p.is_dir()]) if runs.is_dir() else 0,
            reservations=len(list(reservations.iterdir())) if reservations.is_dir() else 0,
            databases=frozenset(databases),
        )

    def foreign_untouched(self) -> bool:
        untouched = self.bystander.poll() is None
        if self.server is not None:
            untouched = untouched and PRECIOUS in self.server.databases()
        return untouched


def marked_processes(marker: str) -> list[psutil.Process]:
    return processes_carrying(MARKER, marker)


@pytest.fixture
def make_case(
    make_config: Callable[..., HarnessConfig], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Case]]:
    """`make_case(services, server=None, **top)`: a case with its config and bystanders."""
    made: list[Case] = []

    def make(services: dict[str, dict[str, Any]], server: Server | None = None, **top: Any) -> Case:
        bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        marker = uuid.uuid4().hex
        monkeypatch.setenv(MARKER, marker)
        if server is not None:
            monkeypatch.setenv(POSTGRES_URL_VARIABLE, server.url)
        case = Case(make_config(services, **top), marker, bystander, server)
        if server is not None:
            case.databases_before = server.databases()
        made.append(case)
        return case

    yield make
    for case in made:
        case.bystander.kill()
        case.bystander.wait()
        for process in marked_processes(case.marker):  # a failed case leaves no process
            process.kill()


# -- databases: only what harness recorded creating -------------------------------------


def test_a_database_named_like_the_runs_but_made_by_a_user_survives_down(make_case, pg_server):
    case = make_case(API, server=pg_server)
    stack = Stack(case.config, "user-copy")
    state = case.watch(stack.up("postgres", auto_ports=True))
    assert state.database is not None
    copy = f"{state.database.name}_mycopy"
    pg_server.execute(f"CREATE DATABASE {copy} TEMPLATE {state.database.name}")

    assert stack.down().ok

    assert case.leftovers() == Leftovers(databases=frozenset({copy}))  # the user's, kept
    assert case.foreign_untouched()
    pg_server.execute(f"DROP DATABASE {copy}")


def test_a_failed_create_never_drops_the_database_that_has_the_name(
    make_case, pg_server, monkeypatch
):
    case = make_case(API, server=pg_server)
    token = uuid.UUID(int=22)
    monkeypatch.setattr(harness.stack._stack, "uuid", SimpleNamespace(uuid4=lambda: token))
    taken = database_name("taken", token.hex)
    pg_server.execute(f"CREATE DATABASE {taken}")
    case.databases_before.add(taken)
    stack = Stack(case.config, "taken")

    with pytest.raises(BackendUnavailableError, match=f"cannot create database '{taken}'"):
        stack.up("postgres", auto_ports=True)

    assert taken in pg_server.databases()
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()
    pg_server.execute(f"DROP DATABASE {taken}")


@pytest.mark.parametrize("at_down", ["url unset", "server unreachable"])
def test_a_database_that_cannot_be_dropped_stays_recorded_until_it_is(
    make_case, pg_server, monkeypatch, at_down
):
    case = make_case(API, server=pg_server)
    stack = Stack(case.config, "owed")
    state = case.watch(stack.up("postgres", auto_ports=True))
    assert state.database is not None
    if at_down == "url unset":
        monkeypatch.delenv(POSTGRES_URL_VARIABLE)
    else:
        monkeypatch.setenv(
            POSTGRES_URL_VARIABLE, f"postgresql://postgres@127.0.0.1:{unbound_port()}/"
        )

    first = stack.down()

    assert not first.ok and first.owed
    assert state.database.name in " ".join(first.problems)
    assert stack.run.exists()  # so `services.down` again does not answer "not up"
    assert clean_stale_runs(case.config)[0].owed  # still owed: the record stays
    assert case.leftovers() == Leftovers(run_dirs=1, databases=frozenset({state.database.name}))

    monkeypatch.setenv(POSTGRES_URL_VARIABLE, pg_server.url)
    assert stack.down().ok

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- claiming a run ---------------------------------------------------------------------


def race_ups(config: HarnessConfig, run_id: str, contenders: int) -> tuple[list, list]:
    """`contenders` threads calling `up` of one run at once: (states won, errors lost)."""
    barrier = threading.Barrier(contenders)
    won: list[RunState] = []
    lost: list[BaseException] = []

    def up() -> None:
        barrier.wait()
        try:
            won.append(Stack(config, run_id).up("sqlite", auto_ports=True))
        except RunStateError as exc:
            lost.append(exc)

    threads = [threading.Thread(target=up) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, lost


def test_concurrent_ups_of_one_run_have_exactly_one_winner_and_orphan_nothing(make_case):
    case = make_case({"api": {"command": app_command()}})
    for _ in range(3):
        won, lost = race_ups(case.config, "contested", 4)
        for state in won:
            case.watch(state)
            assert Stack(case.config, "contested").down().ok

        assert len(won) == 1, f"{len(won)} ups of one run all won"
        assert len(lost) == 3 and all("already up" in str(exc) for exc in lost)
        assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- owners that die: the reaper, and the next command ----------------------------------


def write_project(case: Case, services: dict[str, dict[str, Any]]) -> Path:
    """tasks.py and a pyproject.toml with `services` in the case's root, for `invoke`."""
    root = case.config.root
    (root / "tasks.py").write_text("from harness.cli import namespace\n")
    lines = ["[tool.harness]", "stop_timeout = 2"]
    for name, table in services.items():
        lines.append(f"[tool.harness.services.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return root


def wait_gone(record: ProcessRecord | None) -> None:
    """Wait (generously: this waits on the process, not on the clock) for it to exit."""
    assert record is not None
    with contextlib.suppress(psutil.NoSuchProcess):
        assert wait_exited(psutil.Process(record.pid), timeout=120)


def wait_for_line(path: Path, text: str) -> None:
    for _ in range(6000):
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {path}")


SERVICES = {"api": {"command": app_command()}}
FAKE_NOX = (
    "import subprocess, sys, time\n"
    "result = subprocess.run([sys.executable, '-m', 'invoke', 'services.up', '--run', 'nox',"
    " '--auto-ports'], capture_output=True)\n"
    "print('up' if result.returncode == 0 else 'failed', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.mark.parametrize("kill", ["SIGKILL", "SIGTERM", "SIGTERM to its group"])
def test_a_killed_nox_session_is_followed_by_its_runs_reaper(make_case, kill):
    case = make_case(SERVICES)
    project = write_project(case, SERVICES)
    nox = subprocess.Popen(
        [sys.executable, "-c", FAKE_NOX],
        cwd=project,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert nox.stdout is not None and nox.stdout.readline().strip() == "up"
    state = case.watch(Stack(case.config, "nox").run.load())
    assert state.owner is not None and state.owner.pid == nox.pid
    assert all(record.process.matches() for record in state.services.values())

    if kill == "SIGKILL":
        nox.kill()
    elif kill == "SIGTERM":
        nox.terminate()
    else:
        os.killpg(nox.pid, signal.SIGTERM)
    nox.wait()
    wait_gone(state.reaper)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_killed_test_process_that_owns_its_stack_is_followed_by_the_reaper(make_case):
    case = make_case(SERVICES)
    table = json.dumps({"services": SERVICES})
    owner = subprocess.Popen(
        [sys.executable, str(OWNER), str(case.config.root), "own", "sqlite", table, "--reaper"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
    state = case.watch(Stack(case.config, "own").run.load())

    owner.kill()
    owner.wait()
    wait_gone(state.reaper)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_down_killed_mid_teardown_is_finished_by_the_next_ports_clean(make_case):
    services = {"api": {"command": app_command("term-twice"), "stop_timeout": 600}}
    case = make_case(services)
    project = write_project(case, services)
    state = case.watch(Stack(case.config, "half").up("sqlite", auto_ports=True, detach=True))
    down = subprocess.Popen(
        [sys.executable, "-m", "invoke", "services.down", "--run", "half"], cwd=project
    )
    wait_for_line(Path(state.services["api"].log_path), "ignoring it once")

    down.kill()  # mid-teardown: the service is still in its grace period
    down.wait()
    reports = clean_stale_runs(case.config)

    assert [report.run_id for report in reports] == ["half"]
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- identity ---------------------------------------------------------------------------


def test_a_command_that_execs_keeps_its_identity_for_status_restart_and_down(make_case):
    wrapper = "sleep 0.3 && exec {python} " + str(APP) + " --port {port}"
    case = make_case({"api": {"command": ["sh", "-c", wrapper]}})
    stack = Stack(case.config, "execs")
    state = case.watch(stack.up("sqlite", auto_ports=True, detach=True))
    # the record holds the command line read at spawn (sh's); the exec then replaces it

    assert [(row.running, row.healthy) for row in stack.status()] == [(True, True)]
    assert not stack.run.load().is_stale()
    assert clean_stale_runs(case.config) == []  # a live run is never cleaned away
    restarted = stack.restart("api")
    assert restarted.port == state.services["api"].port
    report = stack.down()

    assert report.ok, report.problems
    assert report.stopped == ["api"]
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- a state file that cannot be read ---------------------------------------------------


def damage(run: RunDirectory, how: str) -> None:
    if how == "corrupted":
        run.state_path.write_text('{"run_id": "half a state')
    else:
        run.state_path.unlink()  # what the old advice said to do


@pytest.mark.parametrize("how", ["corrupted", "deleted"])
@pytest.mark.parametrize("cleaner", ["down", "ports.clean"])
def test_a_run_whose_state_file_is_unreadable_has_one_path_that_cleans(make_case, how, cleaner):
    case = make_case(TWO)
    stack = Stack(case.config, "damaged")
    case.watch(stack.up("sqlite", auto_ports=True))
    damage(stack.run, how)

    with pytest.raises(RunStateError, match=re.escape("invoke services.down --run damaged")):
        Stack(case.config, "damaged").up("sqlite", auto_ports=True)
    if cleaner == "down":
        report = stack.down()
    else:
        [report] = clean_stale_runs(case.config)

    assert report.ok, report.problems
    assert "killed 3 process(es) carrying the run's token" in report.notes  # 2 + the reaper
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_postgres_run_with_an_unreadable_state_loses_its_cluster_and_its_data(
    make_case, no_server_url
):
    case = make_case(API)
    stack = Stack(case.config, "damaged-pg")
    state = case.watch(stack.up("postgres", auto_ports=True))
    assert state.database is not None and state.database.data_dir is not None
    damage(stack.run, "corrupted")

    report = stack.down()

    assert report.ok, report.problems
    assert not Path(state.database.data_dir).exists()
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- Ctrl-C ---------------------------------------------------------------------------


SLEEPING_TEST = """
import pathlib, time

def test_sleeps(service_urls):
    pathlib.Path("ready").touch()
    time.sleep(600)
"""


def test_a_third_ctrl_c_during_teardown_is_one_line_and_teardown_completes(make_case):
    services = {"api": {"command": app_command("term-twice"), "stop_timeout": 600}}
    case = make_case(services)
    project = write_project(case, services)
    (project / "test_sleeps.py").write_text(SLEEPING_TEST)
    pytest_run = interruptible(
        ["pytest", "test_sleeps.py", "-q", "-p", "no:cacheprovider"], project
    )
    assert pytest_run.stderr is not None
    wait_for_line(project / "ready", "")
    log = case.config.run_dir / "runs" / f"pytest-{pytest_run.pid}" / "logs" / "api.log"

    pytest_run.send_signal(signal.SIGINT)  # 1: stops the test; teardown begins
    wait_for_line(log, "ignoring it once")  # teardown's SIGTERM, with 600 s of grace
    pytest_run.send_signal(signal.SIGINT)  # 2
    second = pytest_run.stderr.readline()
    pytest_run.send_signal(signal.SIGINT)  # 3
    third = pytest_run.stderr.readline()
    stdout, stderr = pytest_run.communicate(timeout=120)

    assert second.startswith("harness: taking run 'pytest-") and "waiting for: api" in second
    assert third.startswith("harness: killing what is left of run 'pytest-")
    assert "Traceback" not in stdout + stderr
    assert stderr.strip() == ""  # nothing more than those two lines
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- the cases that held before: kept so they keep holding ------------------------------


@pytest.mark.parametrize(
    ("mode", "timeout", "expected"),
    [("exit", 600, "it exited during start"), ("never-healthy", 1, "not healthy after 1 s")],
)
def test_a_service_that_fails_to_start_leaves_nothing(make_case, mode, timeout, expected):
    case = make_case(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "broken": {
                "command": app_command(mode),
                "depends_on": ["alpha"],
                "start_timeout": timeout,
            },
        }
    )

    with pytest.raises(ServiceStartError, match=expected):
        Stack(case.config, "fails").up("sqlite", auto_ports=True)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_service_that_ignores_sigterm_is_killed_and_leaves_nothing(make_case):
    case = make_case({"stubborn": {"command": app_command("ignore-term"), "stop_timeout": 0.5}})
    stack = Stack(case.config, "stubborn")
    case.watch(stack.up("sqlite", auto_ports=True))

    assert stack.down().ok

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_grandchild_that_escaped_its_group_is_found_by_the_token(make_case):
    case = make_case({"leaky": {"command": app_command("grandchild")}})
    stack = Stack(case.config, "leaky")
    case.watch(stack.up("sqlite", auto_ports=True))

    report = stack.down()

    assert any("escaped its process group" in problem for problem in report.problems)
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


@contextlib.contextmanager
def held_by_a_foreign_program(port: int) -> Iterator[subprocess.Popen[str]]:
    """A program of nobody's run listening on `port` (killed afterwards)."""
    holder = subprocess.Popen(
        [sys.executable, str(APP), "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert "listening" in holder.stdout.readline() + holder.stdout.readline()
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_port_held_by_a_foreign_program_is_refused_and_that_program_left_alone(make_case):
    port = unbound_port()
    with held_by_a_foreign_program(port) as holder:
        case = make_case({"api": {"command": app_command(), "port": port}})

        with pytest.raises(PortInUseError, match=f"pid {holder.pid}"):
            Stack(case.config, "held").up("sqlite")

        assert holder.poll() is None
        assert case.leftovers() == Leftovers()
        assert case.foreign_untouched()


@pytest.mark.parametrize("cleaner", ["up", "down", "ports.clean"])
def test_an_owner_killed_without_its_reaper_is_cleaned_by_the_next_command(make_case, cleaner):
    case = make_case(TWO)
    table = json.dumps({"services": TWO})
    owner = subprocess.Popen(
        [sys.executable, str(OWNER), str(case.config.root), "crashed", "sqlite", table],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
    case.watch(Stack(case.config, "crashed").run.load())
    owner.kill()
    owner.wait()

    stack = Stack(case.config, "crashed")
    if cleaner == "up":
        case.watch(stack.up("sqlite", auto_ports=True))
        assert stack.down().ok
    elif cleaner == "down":
        assert stack.down().ok
    else:
        assert [report.run_id for report in clean_stale_runs(case.config)] == ["crashed"]

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


@pytest.mark.parametrize("interrupt", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_services_up_stops_what_it_started(make_case, interrupt):
    services = {
        "alpha": {"command": app_command("healthy", "--name", "alpha")},
        "slow": {"command": app_command("never-healthy"), "depends_on": ["alpha"]},
    }
    case = make_case(services, start_timeout=600)
    project = write_project(case, services)
    up = interruptible(["invoke", "services.up", "--run", "cut", "--auto-ports"], project)
    log = case.config.run_dir / "runs" / "cut" / "logs" / "slow.log"
    wait_for_line(log, "listening on")  # alpha is up, slow is being waited for

    up.send_signal(interrupt)
    _, stderr = up.communicate(timeout=120)

    assert up.returncode == 130
    assert stderr.strip() == "harness: interrupted; everything this command started was stopped"
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_three_runs_side_by_side_share_nothing_and_leave_nothing(make_case):
    case = make_case(TWO)
    states = [
        case.watch(Stack(case.config, f"side-{n}").up("sqlite", auto_ports=True)) for n in range(3)
    ]
    ports = [{record.port for record in state.services.values()} for state in states]
    assert len(set().union(*ports)) == 6

    for n in range(3):
        assert Stack(case.config, f"side-{n}").down().ok

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_recycled_pid_in_the_state_file_is_never_signalled(make_case):
    case = make_case(TWO)
    stack = Stack(case.config, "recycled")
    state = case.watch(stack.up("sqlite", auto_ports=True, detach=True))
    alpha = state.services["alpha"].process
    state.services["alpha"].process = ProcessRecord(case.bystander.pid, alpha.started, ("x",))
    stack.run.save(state)

    report = stack.down()

    assert f"pid {alpha.pid} escaped its process group; killed" in report.problems
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()  # the bystander had the pid; its start time differs


def test_clones_a_crashed_test_left_are_dropped_at_down_and_only_they(make_case, pg_server):
    case = make_case(API, server=pg_server)
    stack = Stack(case.config, "clones")
    state = case.watch(stack.up("postgres", auto_ports=True))
    assert state.database is not None
    scratch = PostgresScratch(case.config, state.database, tag="gw0")
    scratch.create()
    scratch.create()  # and no close(): the test process "crashed"

    assert stack.down().ok

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


@pytest.mark.filterwarnings("ignore:Revision 0001-gone referenced")
def test_a_migration_that_fails_during_up_leaves_no_database(make_case, pg_server):
    broken = Path(__file__).parents[1] / "fixtures" / "migrations" / "orphan"
    case = make_case({"api": {**API["api"], "migrations": str(broken)}}, server=pg_server)

    with pytest.raises(HarnessError):
        Stack(case.config, "bad-history").up("postgres", auto_ports=True)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_service_killed_while_the_run_is_up_is_reported_and_down_still_cleans(make_case):
    case = make_case(TWO)
    stack = Stack(case.config, "lost-one")
    state = case.watch(stack.up("sqlite", auto_ports=True))
    beta = psutil.Process(state.services["beta"].process.pid)
    beta.kill()
    wait_exited(beta, timeout=120)

    rows = {row.name: row for row in stack.status()}
    assert not rows["beta"].running and rows["alpha"].healthy
    report = stack.down()

    assert report.ok, report.problems
    assert report.stopped == ["alpha"]  # beta was already gone: nothing of it to stop
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


@pytest.mark.parametrize("bad", ["unknown back end", "no PostgreSQL binaries"])
def test_a_run_refused_for_bad_input_leaves_nothing(make_case, no_server_url, tmp_path, bad):
    empty = tmp_path / "no-postgres-here"
    empty.mkdir()
    case = make_case(API, postgres={"bin_dir": str(empty)})
    backend = "mysql" if bad == "unknown back end" else "postgres"

    with pytest.raises(HarnessError):
        Stack(case.config, "refused").up(backend, auto_ports=True)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_an_unreadable_state_on_a_server_drops_the_ledgers_databases_once_it_can(
    make_case, pg_server, monkeypatch
):
    case = make_case(API, server=pg_server)
    stack = Stack(case.config, "damaged-url")
    state = case.watch(stack.up("postgres", auto_ports=True))
    assert state.database is not None
    PostgresScratch(case.config, state.database, tag="gw0").create()  # a clone left behind
    damage(stack.run, "corrupted")
    monkeypatch.delenv(POSTGRES_URL_VARIABLE)

    first = stack.down()

    assert first.owed and not first.ok
    assert len(case.leftovers().databases) == 2  # the run's and the clone, still recorded
    assert stack.run.load().phase == "stopping"  # a readable state owing them now
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, pg_server.url)
    assert stack.down().ok
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_concurrent_services_up_commands_of_one_run_have_exactly_one_winner(make_case):
    case = make_case(SERVICES)
    project = write_project(case, SERVICES)
    ups = [
        subprocess.Popen(
            [sys.executable, "-m", "invoke", "services.up", "--run", "contested", "--auto-ports"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(up.wait(timeout=120), up.communicate()[1]) for up in ups]
    stack = Stack(case.config, "contested")
    case.watch(stack.run.load())

    assert sorted(code for code, _ in results) == [0, 1, 1]
    assert all("already up" in stderr for code, stderr in results if code == 1)
    assert stack.down().ok
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


# -- auxiliary servers (a real redis-server) ------------------------------------------


WITH_REDIS = {"api": {"command": app_command(), "depends_on": ["redis"]}}


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (
            redis_server(command=[*redis_server()["command"], "--no-such-directive", "1"]),
            "server 'redis' failed to start: it exited during start",
        ),
        (
            redis_server({"log": "a line redis never prints"}, start_timeout=1),
            "server 'redis' failed to start: not ready after 1 s by the line",
        ),
    ],
    ids=["exits", "never-ready"],
)
def test_a_server_that_fails_to_start_fails_the_run_and_leaves_nothing(make_case, server, expected):
    case = make_case({**WITH_REDIS, "other": {"command": app_command()}}, servers={"redis": server})
    stack = Stack(case.config, "server-fails")

    with pytest.raises(ServiceStartError, match=expected) as caught:
        stack.up("sqlite", auto_ports=True)

    assert "last lines of its log" in str(caught.value)
    assert not (case.config.run_dir / "runs" / "server-fails" / "logs").exists()
    assert (case.config.run_dir / "logs" / "server-fails" / "redis.log").exists()  # archived
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_servers_port_held_by_a_foreign_program_is_refused_like_a_services(make_case):
    port = unbound_port()
    with held_by_a_foreign_program(port) as holder:
        case = make_case(WITH_REDIS, servers={"redis": redis_server(port=port)})

        with pytest.raises(
            PortInUseError, match=f"tool.harness.servers.redis.port.*pid {holder.pid}"
        ):
            Stack(case.config, "server-held").up("sqlite")

        assert holder.poll() is None
        assert case.leftovers() == Leftovers()
        assert case.foreign_untouched()


def test_a_killed_owner_of_a_stack_with_a_server_is_followed_by_the_reaper(make_case):
    servers = {"redis": redis_server()}
    case = make_case(WITH_REDIS, servers=servers)
    table = json.dumps({"services": WITH_REDIS, "servers": servers})
    owner = subprocess.Popen(
        [
            sys.executable,
            str(OWNER),
            str(case.config.root),
            "own-redis",
            "sqlite",
            table,
            "--reaper",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
    state = case.watch(Stack(case.config, "own-redis").run.load())
    assert state.servers["redis"].process.matches()

    owner.kill()
    owner.wait()
    wait_gone(state.reaper)

    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()


def test_a_server_of_a_run_whose_state_file_is_unreadable_is_found_by_the_token(make_case):
    case = make_case(WITH_REDIS, servers={"redis": redis_server()})
    stack = Stack(case.config, "damaged-redis")
    case.watch(stack.up("sqlite", auto_ports=True))
    damage(stack.run, "corrupted")

    report = stack.down()

    assert report.ok, report.problems
    assert "killed 3 process(es) carrying the run's token" in report.notes  # api, redis, reaper
    assert case.leftovers() == Leftovers()
    assert case.foreign_untouched()
