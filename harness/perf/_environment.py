"""What a run's timings depend on besides the code: the CPU, how many CPUs the run may
use, the Python, and whether the database keeps its files in memory or on a disk.

A baseline is a fair yardstick only where these are the same. `differences` names the
ones that changed, and the regression gate then says it cannot judge rather than blame
the code for another setup: a SQLite database on disk waits for the disk at every
commit (here, case creation 1.5 times as slow as on tmpfs), and a container's CPU quota
stretches every request under load though a lone calibration request runs at full speed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import psutil

from harness.infra import DatabaseRecord

# what a baseline must share with a run to judge it; the others only describe the machine
JUDGED = ("cpu_model", "cpus", "python", "database_storage")
_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})
CGROUPS = Path("/sys/fs/cgroup")


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


def usable_cpus() -> float:
    """The CPUs this process may run on, capped by its cgroup's CPU quota (a container's
    `--cpus`), the tightest of its own cgroup's and its ancestors'."""
    try:
        membership = Path("/proc/self/cgroup").read_text()
    except OSError:
        membership = ""
    return min([float(len(os.sched_getaffinity(0))), *cgroup_quotas(membership, CGROUPS)])


def cgroup_quotas(membership: str, root: Path) -> list[float]:
    """The CPU quotas, in CPUs, of the cgroups in `membership` (the text of
    /proc/<pid>/cgroup) and their ancestors, read under `root` (v1 and v2 layouts)."""
    quotas = []
    for line in membership.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            quotas += [_v2_quota(directory) for directory in _ancestors(root, path)]
        elif "cpu" in controllers.split(","):
            quotas += [_v1_quota(directory) for directory in _ancestors(root / controllers, path)]
    return [quota for quota in quotas if quota is not None]


def _ancestors(root: Path, path: str) -> list[Path]:
    parts = [part for part in path.split("/") if part]
    return [root.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _v2_quota(directory: Path) -> float | None:
    try:
        quota, period = (directory / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _v1_quota(directory: Path) -> float | None:
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota < 0 or period <= 0 else quota / period


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
