"""Taking a run down from its state file alone: stop its processes, release its database,
free its ports, and keep the record of whatever it still owes.

It needs no `[tool.harness]`: each service's stop order and grace are in the state file,
so the reaper, `ports.clean` and `down` after a config change all stop a run the way it was
started. Signals are held meanwhile (`signals_deferred`): a Ctrl-C cannot cut it short, it
gets one line saying what is left, and a further one kills what is left at once.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness import db, infra
from harness.exceptions import HarnessError
from harness.infra import (
    DatabaseRecord,
    PortReservations,
    ProcessRecord,
    RunDirectory,
    RunState,
    ServiceRecord,
    port_owner,
    signals_deferred,
    wait_until_free,
)

PORT_RELEASE_TIMEOUT = 5.0
REAPER_GRACE = 2.0


@dataclass
class Teardown:
    """What taking a run down did, and what it could not do."""

    run_id: str
    stopped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stop_seconds: dict[str, float] = field(default_factory=dict)
    leaks: dict[str, str] = field(default_factory=dict)  # service -> what it left behind
    owed: bool = False  # the run still owes something, so its state file was kept
    notes: list[str] = field(default_factory=list)  # what the user should know, not failures

    @property
    def ok(self) -> bool:
        return not self.problems


def take_down(
    run: RunDirectory, reservations: PortReservations, archive: Path, state: RunState
) -> Teardown:
    """Stop every recorded process (each as soon as nothing that depends on it still runs,
    all in parallel otherwise), release the database, free the ports; logs go to
    `archive/<run-id>/`.

    When the database cannot be released yet, the state file is kept (services cleared,
    no owner) so that `down` again, `up` or `ports.clean` can finish the job.
    """
    report = Teardown(run.run_id)
    members = [record.name for record in state.processes()]
    left = Remaining(run.run_id, [*members, *(["database"] if state.database else [])])
    with signals_deferred(left.interrupted):
        _stop_reaper(state.reaper)
        at_down = _database_activity(state)
        _stop_services(state, report, left)
        if state.database is not None:
            if db.never_used(state.database, at_down):
                report.notes.append(_unused_database_note(state.database))
            try:
                db.release(state.database)
            except HarnessError as exc:
                report.problems.append(str(exc))
                report.owed = True
            left.done("database")
        for pid in infra.kill_tagged(state.token):
            report.problems.append(f"pid {pid} escaped its process group; killed")
        reservations.release_all(run.run_id)
        if report.owed:
            state.services = {}
            state.servers = {}
            state.reaper = None
            state.phase = "stopping"
            state.owner = None  # nobody at it: stale, for the next command to finish
            run.save(state)
        else:
            _archive_logs(run, archive)
            run.remove(state.token)
    return report


def _database_activity(state: RunState) -> db.DatabaseActivity | None:
    """The run database's activity while the services of a run that was up still run;
    None when there is nothing to judge (a failed start, SQLite, a server gone)."""
    database = state.database
    if state.phase == "starting" or database is None or database.transactions_at_start is None:
        return None
    try:
        return db.activity(database)
    except HarnessError:
        return None  # a note is best-effort; releasing the database reports the server


def _unused_database_note(database: DatabaseRecord) -> str:
    return (
        f"no service used the run's database {database.name} while it ran (no connection, "
        f"no transaction); {', '.join(database.users)} set database = true: do they read "
        "DATABASE_URL, or settings of their own (a POSTGRES_* host, a .env file)?"
    )


def salvage(run: RunDirectory, reservations: PortReservations, archive: Path) -> Teardown | None:
    """Take down a run whose state file is unreadable or gone, from what else it left:
    the processes carrying its token (killed), its cluster's data, the databases its ledger
    recorded, its port reservations and its directory.

    When the ledger's databases cannot be dropped yet, a readable state file owing them
    replaces the unreadable one, so a plain `down` finishes the job. None when the run
    turned out readable, or gone, once the lock was held.
    """
    report = Teardown(run.run_id)
    report.notes.append(
        f"{run.state_path} was unreadable or missing; cleaned from what else the run left"
    )
    with signals_deferred(), run.locked():
        if not run.left_unreadable():  # taken down, or still being written, meanwhile
            return None
        token = run.token_path.read_text().strip() if run.token_path.exists() else None
        if token is None:
            report.notes.append("no token file either: no process of the run could be looked for")
        else:
            killed = infra.kill_tagged(token)
            report.notes.append(f"killed {len(killed)} process(es) carrying the run's token")
        if run.data_dir_path.exists():
            db.remove_data_dir(Path(run.data_dir_path.read_text().strip()))
        elif run.created_databases.names():
            owing = RunState(
                run_id=run.run_id,
                token=token or "salvaged",
                backend="postgres",
                phase="stopping",
                owner=None,
                database=DatabaseRecord(
                    "postgres",
                    run.created_databases.names()[0],
                    "",
                    ledger=str(run.created_databases.directory),
                ),
            )
            run.state_path.unlink(missing_ok=True)
            finished = take_down(run, reservations, archive, owing)
            finished.notes[:0] = report.notes
            return finished
        reservations.release_all(run.run_id)
        _archive_logs(run, archive)
        shutil.rmtree(run.path, ignore_errors=True)
    return report


def _stop_reaper(reaper: ProcessRecord | None) -> None:
    """Stop the run's reaper first, so it does not take the run down a second time (unless
    this is the reaper)."""
    if reaper is not None and reaper.pid != os.getpid():
        infra.stop_group(reaper, REAPER_GRACE)


def _stop_services(state: RunState, report: Teardown, left: Remaining) -> None:
    """Stop every recorded service and server, each once all those depending on it have
    stopped (reverse dependency order, and nothing waits for an unrelated one)."""
    records = state.processes()
    stopped = {record.name: threading.Event() for record in records}
    dependants = {
        record.name: [other.name for other in records if record.name in other.depends_on]
        for record in records
    }

    def stop_after_dependants(record: ServiceRecord) -> None:
        try:
            for dependant in dependants[record.name]:
                stopped[dependant].wait()
            _stop_one(record, report, left)
        finally:
            stopped[record.name].set()

    if records:
        with ThreadPoolExecutor(max_workers=len(records)) as pool:
            list(pool.map(stop_after_dependants, records))


class Remaining:
    """What a teardown has still to do, so that each Ctrl-C during it gets one line: the
    first says what it waits for, any later one kills what is left at once (`hurry`)."""

    def __init__(self, run_id: str, items: list[str]) -> None:
        self.run_id = run_id
        self.items = items
        self.hurry = threading.Event()

    def done(self, item: str) -> None:
        if item in self.items:
            self.items.remove(item)

    def interrupted(self, count: int) -> None:
        left = ", ".join(self.items) or "its last files"
        if count == 1:
            line = f"taking run {self.run_id!r} down, waiting for: {left} (Ctrl-C again: kill now)"
        else:
            self.hurry.set()
            line = f"killing what is left of run {self.run_id!r} now: {left}"
        os.write(2, f"harness: {line}\n".encode())  # not print: this runs in a signal handler


def _stop_one(record: ServiceRecord, report: Teardown, left: Remaining) -> None:
    stop_service(record, report, left.hurry)
    left.done(record.name)


def stop_service(
    record: ServiceRecord, report: Teardown, hurry: threading.Event | None = None
) -> None:
    """Stop one service (TERM, its grace or until `hurry`, KILL) and check its port is
    given back."""
    started = time.monotonic()
    if infra.stop_group(record.process, record.stop_timeout, hurry=hurry):
        report.stopped.append(record.name)
    if not wait_until_free(record.port, PORT_RELEASE_TIMEOUT):
        leak = (
            f"port {record.port} of {record.name!r} is still held after stop, by "
            f"{port_owner(record.port)}"
        )
        report.leaks[record.name] = leak
        report.problems.append(leak)
    report.stop_seconds[record.name] = time.monotonic() - started


def _archive_logs(run: RunDirectory, archive: Path) -> None:
    """Keep the run's logs at `archive/<run-id>/` after its directory goes."""
    if run.logs.is_dir():
        target = archive / run.run_id
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(run.logs), target)
