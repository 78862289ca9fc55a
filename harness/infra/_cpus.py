"""How many CPUs this process may use: its affinity, capped by its cgroup's CPU quota (a
container's `--cpus`). The perf results record it, and a stack starts at most that many
services at once."""

from __future__ import annotations

import os
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup")


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
