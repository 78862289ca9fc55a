"""The whole set of services of one run: ports, database, auxiliary servers, start in
dependency order, teardown.

`Stack.up()` records every port, process and database in the run's state file the moment
it exists, and on any failure (Ctrl-C and SIGTERM included) takes down what it started
before the error reaches the caller. `Stack.down()` stops only what that file recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from harness import db, infra, settings
from harness.config import HarnessConfig, ServerConfig, ServiceConfig
from harness.db import migrate_all
from harness.exceptions import PortInUseError, RunStateError, ServiceStartError
from harness.infra import (
    HOST,
    DatabaseRecord,
    PortReservations,
    ProcessRecord,
    RunDirectory,
    RunState,
    ServiceRecord,
    is_port_free,
    list_runs,
    port_owner,
    signals_deferred,
    sigterm_raises,
)
from harness.reports import ReportsLayout, write_coverage_settings
from harness.stack import _outbound, _servers
from harness.stack._events import (
    DatabaseProvisioned,
    MigrationsDone,
    MigrationsStarted,
    Observer,
    Observers,
    ServerReady,
    ServiceHealthy,
    ServiceSpawned,
    StackDown,
    StackUp,
    StartFailed,
)
from harness.stack._junit import write_lifecycle
from harness.stack._reaper import start_reaper
from harness.stack._start_slots import TICK as START_TICK
from harness.stack._start_slots import StartSlots
from harness.stack._teardown import Teardown, salvage, stop_service, take_down

COVERAGE_VARIABLE = "COVERAGE_PROCESS_START"
_DATABASE = ":database"  # what services with database = true need first (no service name)
_NOT_INHERITED = frozenset({settings.POSTGRES_URL_VARIABLE, "DATABASE_URL"})


@dataclass
class ServiceStatus:
    """One row of `services.status`: a service, or an auxiliary server (`kind`)."""

    name: str
    pid: int
    port: int
    url: str
    running: bool
    healthy: bool
    uptime: float
    kind: str = "service"


class Stack:
    """The services of one run (`run_id`) as `[tool.harness]` describes them.

    What happens on the way up and down is told to `observers` (`harness.stack._events`);
    the run's lifecycle JUnit suite is always one of them.
    """

    def __init__(
        self, config: HarnessConfig, run_id: str, observers: Iterable[Observer] = ()
    ) -> None:
        self.config = config
        self.events = Observers([write_lifecycle, *observers])
        self.run = RunDirectory(config.run_dir / "runs", run_id)
        self.reservations = PortReservations.under(config.run_dir)
        self._saving = threading.Lock()  # the database is recorded from a thread of its own

    @property
    def run_id(self) -> str:
        return self.run.run_id

    # -- up -------------------------------------------------------------------------------

    def up(
        self,
        backend: str,
        *,
        auto_ports: bool = False,
        coverage: bool = False,
        detach: bool = False,
        owner_pid: int | None = None,
        reaper: bool = True,
        database_only: bool = False,
        lifecycle_junit: Path | None = None,
    ) -> RunState:
        """Provision the database, migrate, start every service healthy; or leave nothing.

        The run belongs to `owner_pid` (default: this process; `invoke services.up` gives
        its parent, the Nox session or shell): when that process dies, however, the run's
        reaper takes the run down (with `reaper=False` it is only stale, for the next
        command to take down). With `detach` it belongs to nobody and lasts until `down`.
        With `database_only`, the run is an empty database and nothing else (what the
        migration checks make their own databases beside). With `lifecycle_junit`, a failed
        start and, later, `down` write the run's lifecycle suite there.
        """
        if backend not in self.config.backends:
            raise RunStateError(
                f"back end {backend!r} is not in tool.harness.backends {list(self.config.backends)}"
            )
        if not database_only:
            _servers.check_installed(self.config.servers.values())  # before anything starts
        owner = None if detach else self._owner(owner_pid or os.getpid())
        state = RunState(
            run_id=self.run_id,
            token=uuid.uuid4().hex,
            backend=backend,
            phase="starting",
            owner=ProcessRecord.of(os.getpid()),
            lifecycle_junit=str(lifecycle_junit) if lifecycle_junit else None,
        )
        began = time.monotonic()
        with self.run.locked():  # the claim: one exclusive step
            self._clear_stale_run()
            self.run.save(state)
        with sigterm_raises():
            try:
                if owner is not None and reaper:
                    state.reaper = start_reaper(
                        self.config.run_dir,
                        self.run_id,
                        state.token,
                        owner,
                        self.run.logs / "reaper.log",
                        self.config.root,
                    )
                    self.run.save(state)
                self._start(
                    state, auto_ports=auto_ports, coverage=coverage, database_only=database_only
                )
            except BaseException as exc:
                self.events.tell(StartFailed(state, self._teardown(state), exc))
                raise
        state.phase = "up"
        state.owner = owner
        self.run.save(state)
        self.events.tell(StackUp(state, time.monotonic() - began))
        return state

    def _owner(self, pid: int) -> ProcessRecord:
        try:
            return ProcessRecord.of(pid)
        except psutil.NoSuchProcess:
            raise RunStateError(
                f"run {self.run_id!r}: its owner (pid {pid}) has already exited; nothing "
                "would take the run down (services.up --keep makes a run nobody's)"
            ) from None

    def _clear_stale_run(self) -> None:
        if self.run.left_unreadable():
            raise RunStateError(
                f"run {self.run_id!r}: {self.run.path} holds no readable state file; take "
                f"it down first with invoke services.down --run {self.run_id}"
            )
        if not self.run.exists():
            return
        state = self.run.load()
        if not state.is_stale():
            raise RunStateError(
                f"run {self.run_id!r} is already up ({len(state.services)} services, "
                f"{state.backend}, {state.phase}); use it, or take it down first: "
                f"invoke services.down --run {self.run_id}"
            )
        report = self._teardown(state)
        if report.owed:
            raise RunStateError(
                f"run {self.run_id!r} was left behind and still owes: " + "; ".join(report.problems)
            )

    def _start(
        self, state: RunState, *, auto_ports: bool, coverage: bool, database_only: bool
    ) -> None:
        """Start each service and server the moment what it needs is ready: its dependencies
        healthy, and the database provisioned and migrated if it uses it (or depends on one
        that does). The database is prepared in a thread meanwhile; every spawn (and its
        prestart steps) happens here, and is in the state file before anything waits on it.
        """
        ports = {} if database_only else self._allocate_ports(auto_ports)
        urls = {
            name: f"http://{HOST}:{ports[name]}" for name in ports if name in self.config.services
        }
        base_env = self._base_env(state, urls, coverage)
        if database_only:
            self._prepare_database(state, base_env, threading.Event(), migrate=False)
            return
        needs = {
            name: {*service.depends_on, *([_DATABASE] if service.database else [])}
            for name, service in self.config.services.items()
        }
        needs.update({name: set(server.depends_on) for name, server in self.config.servers.items()})
        pending = [
            *self.config.servers,
            *(name for level in self.config.start_order() for name in level),
        ]
        ready: set[str] = set()
        database_url = ""
        cancelled = threading.Event()
        pool = ThreadPoolExecutor(max_workers=len(pending) + 1)
        try:
            running: dict[Future[Any], str] = {
                pool.submit(self._prepare_database, state, base_env, cancelled): _DATABASE
            }
            slots = StartSlots(self.config, max(1, int(infra.usable_cpus())))
            while pending or running:
                queued = False
                for name in slots.first(name for name in pending if needs[name] <= ready):
                    if name in self.config.services and not slots.free():
                        queued = True
                        continue
                    pending.remove(name)
                    if name in self.config.servers:
                        server = self.config.servers[name]
                        env = self._server_env(server, base_env, _urls(state.servers))
                        started = self._start_server(state, server, ports[name], env)
                        running[
                            pool.submit(self._wait_ready, state, server, *started, cancelled)
                        ] = name
                        continue
                    service = self.config.services[name]
                    env = self._service_env(
                        service, base_env, ports[name], database_url, _urls(state.servers)
                    )
                    process = self._start_service(state, service, ports[name], env)
                    slots.take(name, process.pid)
                    running[pool.submit(self._wait_healthy, state, name, process, cancelled)] = name
                tick = START_TICK if queued else None  # a slot may free up without an event
                done, _ = wait(running, timeout=tick, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    name = running.pop(future)
                    slots.give_back(name)
                    if name == _DATABASE:
                        database_url = result
                    ready.add(name)
        except BaseException:
            cancelled.set()
            # nothing may be created once teardown starts: a second Ctrl-C cannot cut this short
            with signals_deferred():
                pool.shutdown(wait=True)
            raise
        pool.shutdown(wait=True)

    def _save(self, state: RunState, change: Callable[[], object] = lambda: None) -> None:
        """Apply `change` to the state and save it, one thread at a time."""
        with self._saving:
            change()
            self.run.save(state)

    def _prepare_database(
        self,
        state: RunState,
        base_env: dict[str, str],
        cancelled: threading.Event,
        migrate: bool = True,
    ) -> str:
        """Provision the run's database and migrate every history; its services' URL."""

        def record_database(record: DatabaseRecord) -> None:
            self._save(state, lambda: setattr(state, "database", record))

        database = db.provision(
            state.backend,
            self.config,
            self.run,
            state.token,
            base_env,
            lambda: self.reservations.free_port(self.run_id),
            record_database,
        )
        self.events.tell(DatabaseProvisioned(database.backend, database.name))
        database_url = db.service_url(database, self.config)
        if not migrate or cancelled.is_set():
            return database_url
        histories = sum(1 for s in self.config.services.values() if s.migrations is not None)
        self.events.tell(MigrationsStarted(histories))
        began = time.monotonic()
        copied = migrate_all(self.config, database_url)
        self.events.tell(MigrationsDone(histories, time.monotonic() - began, copied))
        users = [name for name, service in self.config.services.items() if service.database]
        if users:
            started = db.activity(database)

            def remember_start() -> None:
                database.transactions_at_start = started.transactions if started else None
                database.users = users

            self._save(state, remember_start)
        return database_url

    def _allocate_ports(self, auto_ports: bool) -> dict[str, int]:
        """Configured ports first, so a free port found for another service (or server) is
        never one of them."""
        members: list[ServiceConfig | ServerConfig] = [
            *self.config.services.values(),
            *self.config.servers.values(),
        ]
        configured = [] if auto_ports else [m for m in members if m.port is not None]
        ports = {member.name: self._claim_configured_port(member) for member in configured}
        for member in members:
            if member.name not in ports:
                ports[member.name] = self.reservations.free_port(self.run_id)
        return ports

    def _claim_configured_port(self, member: ServiceConfig | ServerConfig) -> int:
        port = member.port
        assert port is not None
        table = member.table if isinstance(member, ServerConfig) else "services"
        key = f"tool.harness.{table}.{member.name}.port"
        if not self.reservations.reserve(port, self.run_id):
            holder = self.reservations.holder(port)
            raise PortInUseError(
                f"port {port} ({key}) is in use by harness run {holder!r}; take it down "
                f"(invoke services.down --run {holder}) or pass --auto-ports",
                port,
            )
        if not is_port_free(port):
            self.reservations.release(port, self.run_id)
            raise PortInUseError(
                f"port {port} ({key}) is held by another program, {port_owner(port)}; "
                "stop that program, change the port, or pass --auto-ports "
                "(harness never stops a program it did not start)",
                port,
            )
        return port

    def _base_env(self, state: RunState, urls: dict[str, str], coverage: bool) -> dict[str, str]:
        """This shell's environment but its database URLs (the admin server's is not a
        service's business; a service that uses the database gets the run's), plus the run's."""
        env = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
        env.update(
            {
                settings.RUN_TOKEN_VARIABLE: state.token,
                settings.RUN_ID_VARIABLE: self.run_id,
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(
                    [*map(str, self.config.pythonpath), *filter(None, [env.get("PYTHONPATH")])]
                ),
            }
        )
        for name, url in urls.items():
            env[self.config.services[name].url_variable] = url
        if self.config.outbound == "loopback":
            allowed = _outbound.database_hosts(os.environ.get(settings.POSTGRES_URL_VARIABLE))
            env = _outbound.guarded(env, self.run.logs / _outbound.RECORD_NAME, allowed)
        if self.config.bytecode_cache:
            env = infra.with_bytecode_cache(env, self.config.run_dir, self.config.root)
        if coverage:
            coverage_settings = ReportsLayout(self.config.reports.dir).coverage_settings
            env.setdefault(
                COVERAGE_VARIABLE, str(write_coverage_settings(self.config, coverage_settings))
            )
        return env

    def _wiring(self, state: RunState) -> tuple[dict[str, str], str]:
        """(base environment, DATABASE_URL) of a run that is up, to start one more process."""
        urls = {name: record.url for name, record in state.services.items()}
        database_url = db.service_url(state.database, self.config) if state.database else ""
        return self._base_env(state, urls, COVERAGE_VARIABLE in os.environ), database_url

    def _service_env(
        self,
        service: ServiceConfig,
        base_env: dict[str, str],
        port: int,
        database_url: str,
        server_urls: dict[str, str],
    ) -> dict[str, str]:
        """Its environment: `PORT`, `DATABASE_URL` if it uses the database, `<NAME>_URL` of
        each server it depends on, and its own `env`."""
        env = {**base_env, "PORT": str(port), **self._dependency_urls(service, server_urls)}
        env.update(service.env)
        if service.database:
            env["DATABASE_URL"] = database_url
        return env

    def _server_env(
        self, server: ServerConfig, base_env: dict[str, str], server_urls: dict[str, str]
    ) -> dict[str, str]:
        return {**base_env, **self._dependency_urls(server, server_urls), **server.env}

    def _dependency_urls(
        self, member: ServiceConfig | ServerConfig, server_urls: dict[str, str]
    ) -> dict[str, str]:
        """`<NAME>_URL` of each server `member` depends on."""
        return {
            self.config.servers[name].url_variable: server_urls[name]
            for name in member.depends_on
            if name in self.config.servers and name in server_urls
        }

    def _start_server(
        self, state: RunState, server: ServerConfig, port: int, env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], infra.Probe]:
        """Spawn an auxiliary server and record it in the state file."""
        process, record, readiness = _servers.launch(server, port, env, self.run, self.config.root)
        self._save(state, lambda: state.servers.__setitem__(server.name, record))
        self.events.tell(ServiceSpawned(server.name, record.process.pid, port))
        return process, readiness

    def _wait_ready(
        self,
        state: RunState,
        server: ServerConfig,
        process: subprocess.Popen[bytes],
        readiness: infra.Probe,
        cancelled: threading.Event,
    ) -> None:
        record = state.servers[server.name]
        spawned_at = time.monotonic()
        _servers.wait_ready(server, process, readiness, Path(record.log_path), cancelled)
        if not cancelled.is_set():
            record.healthy_after = time.monotonic() - spawned_at
            self.events.tell(ServerReady(server.name, record.url, record.healthy_after))

    def _start_service(
        self, state: RunState, service: ServiceConfig, port: int, env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        """Run the service's prestart steps, spawn it and record it in the state file."""
        for step in service.prestart:
            infra.run_step(
                service.name,
                self._command(step, port),
                env,
                self.run.logs / f"{service.name}.log",
                self.config.root,
                service.start_timeout,
            )
        process, record = self._launch(service, port, env, service.name)
        record.depends_on = list(service.depends_on)
        self._save(state, lambda: state.services.__setitem__(service.name, record))
        self.events.tell(ServiceSpawned(service.name, record.process.pid, port))
        return process

    def _wait_healthy(
        self,
        state: RunState,
        name: str,
        process: subprocess.Popen[bytes],
        cancelled: threading.Event,
    ) -> None:
        record = state.services[name]
        service = self.config.services[name]
        spawned_at = time.monotonic()
        infra.wait_healthy(
            name,
            process,
            record.url + service.health,
            service.start_timeout,
            Path(record.log_path),
            cancelled,
        )
        if not cancelled.is_set():
            record.healthy_after = time.monotonic() - spawned_at
            self.events.tell(ServiceHealthy(name, record.url, record.healthy_after))

    def _launch(
        self, service: ServiceConfig, port: int, env: dict[str, str], label: str
    ) -> tuple[subprocess.Popen[bytes], ServiceRecord]:
        """Start one process of `service` on `port`, logging to `<run>/logs/<label>.log`.

        The record keeps the service's name, so stopping it uses the service's grace period.
        """
        command = self._command(service.command, port)
        log_path = self.run.logs / f"{label}.log"
        try:
            process = infra.spawn(command, env, log_path, cwd=self.config.root)
        except OSError as exc:
            raise ServiceStartError(
                service.name,
                f"cannot run {command[0]!r}: {exc.strerror}; check "
                f"tool.harness.services.{service.name}.command",
            ) from None
        return process, ServiceRecord(
            name=service.name,
            process=ProcessRecord.of(process.pid),
            port=port,
            url=f"http://{HOST}:{port}",
            log_path=str(log_path),
            started_at=datetime.now(UTC).isoformat(),
            stop_timeout=service.stop_timeout,
        )

    @staticmethod
    def _command(arguments: tuple[str, ...], port: int) -> list[str]:
        """`arguments` with `{port}` and `{python}` (the interpreter running harness) filled."""
        return [
            argument.replace("{port}", str(port)).replace("{python}", sys.executable)
            for argument in arguments
        ]

    # -- extra instances ------------------------------------------------------------------

    def start_instance(self, name: str, env: dict[str, str], label: str) -> ServiceRecord:
        """One more process of service `name`, wired as the run's own except for `env`.

        For a test that needs a service rewired (say, its dependency behind a fault proxy).
        It is kept out of the state file, which concurrent tests would race to rewrite, but
        it carries the run's token: `down` still stops it if its test never did.
        """
        if name not in self.config.services:
            raise RunStateError(f"no service {name!r} in tool.harness.services")
        service = self.config.services[name]
        state = self.run.load()
        base_env, database_url = self._wiring(state)
        port = self.reservations.free_port(self.run_id)
        service_env = {
            **self._service_env(service, base_env, port, database_url, _urls(state.servers)),
            **env,
        }
        with self._released_unless_started(port):
            process, record = self._launch(service, port, service_env, label)
            with _stopped_unless_started(record):
                infra.wait_healthy(
                    label,
                    process,
                    record.url + service.health,
                    service.start_timeout,
                    Path(record.log_path),
                    threading.Event(),
                )
        return record

    def start_server_instance(self, name: str, label: str, port: int = 0) -> ServiceRecord:
        """One more process of auxiliary server `name`, wired as the run's, with a data
        directory and log of its own (`label`), on `port` (a restart) or a free one.

        Kept out of the state file and carrying the run's token, as `start_instance`'s."""
        if name not in self.config.servers:
            raise RunStateError(f"no server {name!r} in tool.harness.servers")
        server = self.config.servers[name]
        state = self.run.load()
        base_env, _ = self._wiring(state)
        env = self._server_env(server, base_env, _urls(state.servers))
        port = port or self.reservations.free_port(self.run_id)
        with self._released_unless_started(port):
            process, record, readiness = _servers.launch(
                server, port, env, self.run, self.config.root, label
            )
            with _stopped_unless_started(record):
                never = threading.Event()
                _servers.wait_ready(server, process, readiness, Path(record.log_path), never)
        return record

    def restart_server_instance(self, record: ServiceRecord) -> ServiceRecord:
        """Stop an instance `start_server_instance` started (SIGTERM, its grace) unless it
        ended already, then start it again on the same port, data directory and log (its
        label is its log's name)."""
        infra.stop_group(record.process, record.stop_timeout)
        label = Path(record.log_path).stem
        return self.start_server_instance(record.name, label, port=record.port)

    def kill_instance(self, record: ServiceRecord) -> None:
        """Kill an instance `start_instance` or `start_server_instance` started, as a crash
        would: SIGKILL to its process group, no grace. `stop_instance` still gives its port
        back."""
        infra.stop_group(record.process, grace=0, signals=(signal.SIGKILL,))

    @contextmanager
    def _released_unless_started(self, port: int) -> Iterator[None]:
        """Give `port` back if the instance on it fails to start, without checking it is
        free: the start-up error is the news, and another program may hold the port."""
        try:
            yield
        except BaseException:
            self.reservations.release(port, self.run_id)
            raise

    def stop_instance(self, record: ServiceRecord) -> None:
        """Stop an instance `start_instance` or `start_server_instance` started and give its
        port back."""
        report = Teardown(self.run_id)
        stop_service(record, report)
        self.reservations.release(record.port, self.run_id)
        if not report.ok:
            raise RunStateError("; ".join(report.problems))

    # -- down -----------------------------------------------------------------------------

    def down(self) -> Teardown:
        """Stop every recorded service, drop the run's database, free its ports.

        A run whose state file is unreadable (or was deleted) is salvaged instead.
        """
        salvaged = self._salvage()
        if salvaged is not None:
            return salvaged
        state = self.run.load()
        state.phase = "stopping"
        state.owner = ProcessRecord.of(os.getpid())  # if this dies, the run is stale again
        self.run.save(state)
        teardown = self._teardown(state)
        self.events.tell(StackDown(state, teardown))
        return teardown

    def _salvage(self) -> Teardown | None:
        """Take the run down from what it left, if its state file is unreadable or gone."""
        if not self.run.left_unreadable():
            return None
        return salvage(self.run, self.reservations, self.config.run_dir / "logs")

    def _teardown(self, state: RunState) -> Teardown:
        return take_down(self.run, self.reservations, self.config.run_dir / "logs", state)

    # -- status and restart -----------------------------------------------------------------

    def status(self) -> list[ServiceStatus]:
        """A row per service (healthy: its health path answers 200), then per auxiliary
        server (healthy: ready by one look of its probe)."""
        state = self.run.load()
        rows = []
        for name, record in state.services.items():
            running = record.process.matches()
            health = (
                self.config.services[name].health if name in self.config.services else "/health"
            )
            healthy = running and _answers_200(record.url + health)
            rows.append(_status_row(record, running, healthy))
        base_env, _ = self._wiring(state)
        for name, record in state.servers.items():
            running = record.process.matches()
            server = self.config.servers.get(name)
            ready = running and (
                _servers.is_ready(server, record, self.run, base_env, self.config.root)
                if server is not None
                else infra.TcpProbe(record.port).check(1.0) is None
            )
            rows.append(_status_row(record, running, ready, kind="server"))
        return rows

    def restart(self, name: str) -> ServiceRecord:
        """Stop one service and start it again on the same port with the same wiring."""
        state = self.run.load()
        if name not in state.services or name not in self.config.services:
            raise RunStateError(
                f"no service {name!r} in run {self.run_id!r}; services: {sorted(state.services)}"
            )
        report = Teardown(self.run_id)
        record = state.services[name]
        stop_service(record, report)
        if not report.ok:
            raise RunStateError("; ".join(report.problems))
        base_env, database_url = self._wiring(state)
        service = self.config.services[name]
        env = self._service_env(service, base_env, record.port, database_url, _urls(state.servers))
        process = self._start_service(state, service, record.port, env)
        self._wait_healthy(state, name, process, threading.Event())
        self._save(state)
        return state.services[name]


def _answers_200(url: str) -> bool:
    """Whether `url` answers 200 at one look."""
    probe = infra.HttpProbe("", url, Path())
    try:
        return probe.check(1.0) is None
    finally:
        probe.close()


def _status_row(
    record: ServiceRecord, running: bool, healthy: bool, kind: str = "service"
) -> ServiceStatus:
    uptime = record.process.uptime() if running else 0.0
    return ServiceStatus(
        record.name, record.process.pid, record.port, record.url, running, healthy, uptime, kind
    )


@contextmanager
def _stopped_unless_started(record: ServiceRecord) -> Iterator[None]:
    """Stop the instance `record` names if the block fails (it did not start)."""
    try:
        yield
    except BaseException:
        infra.stop_group(record.process, record.stop_timeout)
        raise


def _urls(records: dict[str, ServiceRecord]) -> dict[str, str]:
    return {name: record.url for name, record in records.items()}


def clean_stale_runs(config: HarnessConfig) -> list[Teardown]:
    """Take down every run whose owner died or whose processes are all gone, salvage every
    run whose state file is unreadable or gone; free stale ports."""
    reports = []
    for run_id in list_runs(config.run_dir / "runs"):
        stack = Stack(config, run_id)
        salvaged = stack._salvage()
        if salvaged is not None:
            reports.append(salvaged)
            continue
        try:
            state = stack.run.load()
        except RunStateError:
            continue  # taken down meanwhile
        if state.is_stale():
            reports.append(stack._teardown(state))
    PortReservations.under(config.run_dir).clean_stale()
    return reports
