"""What a run's timings depend on besides the code: the CPU, how many CPUs the run may
use, the Python, and whether the database keeps its files in memory or on a disk.

A baseline is a fair yardstick only where these are the same. `differences` names the
ones that changed, and the regression gate then says it cannot judge rather than blame
the code for another setup: a SQLite database on disk waits for the disk at every
commit (here, case creation 1.5 times as slow as on tmpfs), and a container's CPU quota
stretches every request under load though a lone calibration request runs at full speed.
"""

from __future__ import annotations

import platform
from pathlib import Path

import psutil

from harness.infra import DatabaseRecord, usable_cpus

# what a baseline must share with a run to judge it; the others only describe the machine
JUDGED = ("cpu_model", "cpus", "python", "database_storage")
_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def describe(database: DatabaseRecord | None) -> dict[str, str]:
    """This machine and the run's database, as the results keep them."""
    return {
        "node": platform.node(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpus": f"{usable_cpus():g}",
        "database_storage": database_storage(database),
    }


def differences(baseline: dict[str, str], current: dict[str, str]) -> list[str]:
    """Each judged trait that differs, as '<trait> <baseline's> then, <this run's> now';
    a trait one side did not record is not a difference."""
    return [
        f"{key} {baseline[key]} then, {current[key]} now"
        for key in JUDGED
        if key in baseline and key in current and baseline[key] != current[key]
    ]


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def database_storage(database: DatabaseRecord | None) -> str:
    """'memory' when the run's database files are on tmpfs, 'disk' when not, 'server'
    for a PostgreSQL server harness did not start, 'none' without a database."""
    if database is None:
        return "none"
    if database.backend == "sqlite":
        return _storage_of(Path(database.name))
    return _storage_of(Path(database.data_dir)) if database.data_dir else "server"


def _storage_of(path: Path) -> str:
    resolved = str(path.resolve())
    mounts = [
        partition
        for partition in psutil.disk_partitions(all=True)
        if resolved == partition.mountpoint
        or resolved.startswith(partition.mountpoint.rstrip("/") + "/")
    ]
    if not mounts:
        return "disk"
    mount = max(mounts, key=lambda partition: len(partition.mountpoint))
    return "memory" if mount.fstype in _MEMORY_FILESYSTEMS else "disk"
