"""A run's state file, `<run_dir>/runs/<run-id>/state.json`: what harness started and created.

It is rewritten atomically (temp file + rename) after every change, so a crash at any
moment leaves either the old or the new state, never half of one. It is the only
evidence harness accepts that a process or database is its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness.exceptions import RunStateError
from harness.infra._processes import ProcessRecord
from harness.infra._run_ids import check_run_id, is_run_id

Phase = Literal["starting", "up", "stopping"]


@dataclass
class ServiceRecord:
    """One running service, or auxiliary server (`RunState.servers`), as started by harness;
    a server's `url` is its own (`redis://127.0.0.1:6390`)."""

    name: str
    process: ProcessRecord
    port: int
    url: str
    log_path: str
    started_at: str
    healthy_after: float | None = None  # seconds from spawn to its first healthy answer
    stop_timeout: float = 5.0  # its grace after SIGTERM, so teardown needs no config
    # the services it depends on: teardown stops it before any of them
    depends_on: list[str] = field(default_factory=list)


@dataclass
class DatabaseRecord:
    """The run's database: back end, name, masked URL, and where it lives.

    Which PostgreSQL databases the run may drop is not this record but its `ledger`
    (`CreatedDatabases`): a name is written there only once its CREATE succeeded.
    """

    backend: str
    name: str
    display_url: str
    cluster: ProcessRecord | None = None
    # the directory harness made for its files (the cluster's data, or the SQLite file's,
    # on tmpfs), removed with it
    data_dir: str | None = None
    cluster_port: int | None = None
    # PostgreSQL's transaction count on it once migrated, before any service started, and
    # the services given it (`database = true`): what tells a database no service used
    transactions_at_start: int | None = None
    users: list[str] = field(default_factory=list)
    ledger: str | None = None  # the run's CreatedDatabases directory


class CreatedDatabases:
    """The PostgreSQL databases a run created, one empty file each under `<run>/databases/`.

    A name is added only after its CREATE succeeded and removed only after its DROP did,
    so the ledger is exactly what the run still owes: never a name that merely looks like
    the run's, never a database that existed before. One file per name keeps concurrent
    writers (xdist workers cloning databases) from racing to rewrite a shared file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def add(self, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).touch()

    def discard(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(path.name for path in self.directory.iterdir())


@dataclass
class RunState:
    """Everything a later command needs to find, check and take down a run."""

    run_id: str
    token: str
    backend: str
    phase: Phase
    owner: ProcessRecord | None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    database: DatabaseRecord | None = None
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    lifecycle_junit: str | None = None  # where up and down write the lifecycle suite
    reaper: ProcessRecord | None = None  # the watchdog that takes the run down if its owner dies
    servers: dict[str, ServiceRecord] = field(default_factory=dict)  # auxiliary: Redis, …

    def processes(self) -> list[ServiceRecord]:
        """Every process of the run's stack: its services and its auxiliary servers."""
        return [*self.services.values(), *self.servers.values()]

    def is_stale(self) -> bool:
        """True when nobody will take this run down: its owner died, a teardown that still
        owes something is left with no owner, or nothing of it is running any more."""
        if self.owner is not None and not self.owner.matches():
            return True
        if self.phase == "stopping":
            return self.owner is None
        return self.phase == "up" and not any(
            record.process.matches() for record in self.processes()
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunState:
        data = json.loads(text)
        data["owner"] = _process(data.get("owner"))
        data["reaper"] = _process(data.get("reaper"))
        if data.get("database"):
            database = data["database"]
            database["cluster"] = _process(database.get("cluster"))
            if "cluster_data_dir" in database:  # its name before SQLite had one too
                database["data_dir"] = database.pop("cluster_data_dir")
            data["database"] = DatabaseRecord(**database)
        services = data.get("services", {})
        _levels_to_dependencies(services)
        data["services"] = {
            name: ServiceRecord(**{**record, "process": _process(record["process"])})
            for name, record in services.items()
        }
        data["servers"] = {
            name: ServiceRecord(**{**record, "process": _process(record["process"])})
            for name, record in data.get("servers", {}).items()
        }
        return cls(**data)


def _levels_to_dependencies(services: dict[str, dict[str, Any]]) -> None:
    """A state file from before dependencies were recorded gave each service a `level`:
    read it as depending on every service of a lower level, which stops them in that order."""
    levels = {name: record.pop("level") for name, record in services.items() if "level" in record}
    for name, level in levels.items():
        services[name]["depends_on"] = [other for other, lower in levels.items() if lower < level]


def _process(data: dict[str, Any] | None) -> ProcessRecord | None:
    if data is None:
        return None
    return ProcessRecord(data["pid"], data["started"], tuple(data["cmdline"]))


_held = threading.local()  # the runs directories whose lock this thread holds


class RunDirectory:
    """The files of one run: state.json, logs/, and whatever its back end keeps there.

    Claiming a run, saving its state and removing it happen under one lock on the runs
    directory (`locked`), and a save or removal only ever touches the state of its own
    token: two `up`s of one run never both win, and a late teardown of a stale run never
    deletes or overwrites the run that replaced it.
    """

    def __init__(self, runs_dir: Path, run_id: str) -> None:
        self.run_id = check_run_id(run_id)
        self.runs_dir = runs_dir
        self.path = runs_dir / run_id

    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def created_databases(self) -> CreatedDatabases:
        return CreatedDatabases(self.path / "databases")

    @property
    def token_path(self) -> Path:
        """The run's token on its own, for when the state file cannot be read."""
        return self.path / "token"

    @property
    def data_dir_path(self) -> Path:
        """Where the run's database keeps its files when not in the run directory (the
        throwaway cluster's data, a SQLite file on tmpfs), on its own likewise."""
        return self.path / "data-dir"

    def left_unreadable(self) -> bool:
        """True when the run's directory is there but no state can be read from it (a
        file damaged or deleted by hand): only `salvage` can take such a run down."""
        if not self.path.is_dir():
            return False
        try:
            self.load()
        except RunStateError:
            return True
        return False

    def exists(self) -> bool:
        return self.state_path.exists()

    def load(self) -> RunState:
        try:
            return RunState.from_json(self.state_path.read_text())
        except FileNotFoundError:
            raise RunStateError(f"run {self.run_id!r} is not up (no {self.state_path})") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RunStateError(
                f"{self.state_path}: unreadable state file ({exc}); take the run down with "
                f"invoke services.down --run {self.run_id} (it stops what carries the run's "
                "token, drops the databases it recorded and frees its ports)"
            ) from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive lock of the runs directory (re-entrant within a thread)."""
        held: set[Path] = _held.__dict__.setdefault("paths", set())
        if self.runs_dir in held:
            yield
            return
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.runs_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.add(self.runs_dir)
            try:
                yield
            finally:
                held.discard(self.runs_dir)
        finally:
            os.close(fd)  # and with it the lock

    def _token_on_disk(self) -> str | None:
        """The token of the state file as it is now; None when there is none (or it is
        unreadable, which no claim ever leaves)."""
        try:
            token = json.loads(self.state_path.read_text()).get("token")
        except (OSError, ValueError, AttributeError):
            return None
        return token if isinstance(token, str) else None

    def save(self, state: RunState) -> None:
        """Write the state atomically, unless another run's state has taken its place."""
        with self.locked():
            on_disk = self._token_on_disk()
            if on_disk not in (None, state.token):
                raise RunStateError(
                    f"run {self.run_id!r} was claimed by another command meanwhile; "
                    "this one leaves it alone"
                )
            self._write(state)

    def _write(self, state: RunState) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.token_path.exists():
            self.token_path.write_text(state.token)
        fd, temporary = tempfile.mkstemp(dir=self.path, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(state.to_json())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.state_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def remove(self, token: str) -> None:
        """Delete the run directory (state, logs, SQLite file) once nothing of it is left,
        unless another run (another token) has claimed it meanwhile."""
        with self.locked():
            if self._token_on_disk() in (None, token):
                shutil.rmtree(self.path, ignore_errors=True)


def list_runs(runs_dir: Path) -> list[str]:
    """Run ids that have a directory (a state file, or what is left of one)."""
    if not runs_dir.is_dir():
        return []
    return sorted(
        path.name for path in runs_dir.iterdir() if path.is_dir() and is_run_id(path.name)
    )
