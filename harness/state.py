"""A run's state file, `<run_dir>/runs/<run-id>/state.json`: what harness started and created.

It is rewritten atomically (temp file + rename) after every change, so a crash at any
moment leaves either the old or the new state, never half of one. It is the only
evidence harness accepts that a process or database is its own.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness.exceptions import RunStateError
from harness.processes import ProcessRecord
from harness.run_ids import check_run_id

Phase = Literal["starting", "up", "stopping"]


@dataclass
class ServiceRecord:
    """One running service as started by harness."""

    name: str
    process: ProcessRecord
    port: int
    url: str
    log_path: str
    started_at: str
    healthy_after: float | None = None  # seconds from spawn to its first healthy answer


@dataclass
class DatabaseRecord:
    """The database a run created (and so may drop): back end, name, masked URL."""

    backend: str
    name: str
    display_url: str
    cluster: ProcessRecord | None = None
    cluster_data_dir: str | None = None
    cluster_port: int | None = None
    # PostgreSQL's transaction count on it once migrated, before any service started
    transactions_at_start: int | None = None


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

    def is_stale(self) -> bool:
        """True when nobody will take this run down: its owner died, or nothing is left."""
        if self.owner is not None and not self.owner.matches():
            return True
        return self.phase == "up" and not any(
            service.process.matches() for service in self.services.values()
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunState:
        data = json.loads(text)
        data["owner"] = _process(data.get("owner"))
        if data.get("database"):
            database = data["database"]
            database["cluster"] = _process(database.get("cluster"))
            data["database"] = DatabaseRecord(**database)
        data["services"] = {
            name: ServiceRecord(**{**record, "process": _process(record["process"])})
            for name, record in data.get("services", {}).items()
        }
        return cls(**data)


def _process(data: dict[str, Any] | None) -> ProcessRecord | None:
    if data is None:
        return None
    return ProcessRecord(data["pid"], data["started"], tuple(data["cmdline"]))


class RunDirectory:
    """The files of one run: state.json, logs/, and whatever its back end keeps there."""

    def __init__(self, runs_dir: Path, run_id: str) -> None:
        self.run_id = check_run_id(run_id)
        self.path = runs_dir / run_id

    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    def exists(self) -> bool:
        return self.state_path.exists()

    def load(self) -> RunState:
        try:
            return RunState.from_json(self.state_path.read_text())
        except FileNotFoundError:
            raise RunStateError(f"run {self.run_id!r} is not up (no {self.state_path})") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RunStateError(
                f"{self.state_path}: unreadable state file ({exc}); check no process of this "
                "run is left, then delete the file"
            ) from None

    def save(self, state: RunState) -> None:
        """Write the state atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
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

    def remove(self) -> None:
        """Delete the run directory (state, logs, SQLite file) once nothing of it is left."""
        shutil.rmtree(self.path, ignore_errors=True)


def list_runs(runs_dir: Path) -> list[str]:
    """Run ids that have a state file."""
    if not runs_dir.is_dir():
        return []
    return sorted(path.parent.name for path in runs_dir.glob("*/state.json"))
