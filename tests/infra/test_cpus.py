"""The CPUs a process may use: its affinity, capped by a container's CPU quota read from its
cgroup files (v1 and v2 layouts)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.infra import cgroup_quotas, usable_cpus


def test_the_usable_cpus_are_at_most_the_affinity():
    assert 0 < usable_cpus() <= len(os.sched_getaffinity(0))


def write(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "cpu.max").write_text(text)


def test_a_v2_quota_on_an_ancestor_caps_the_cpus(tmp_path):
    write(tmp_path, "max 100000\n")
    write(tmp_path / "ci", "150000 100000\n")
    write(tmp_path / "ci" / "job", "max 100000\n")

    assert cgroup_quotas("0::/ci/job\n", tmp_path) == [1.5]


def test_a_v1_quota_is_read_from_the_cpu_controllers_hierarchy(tmp_path):
    job = tmp_path / "cpu,cpuacct" / "ci" / "job"
    job.mkdir(parents=True)
    (job / "cpu.cfs_quota_us").write_text("50000\n")
    (job / "cpu.cfs_period_us").write_text("100000\n")
    (job.parent / "cpu.cfs_quota_us").write_text("-1\n")  # no quota
    (job.parent / "cpu.cfs_period_us").write_text("100000\n")
    membership = "9:name=systemd:/ci/job\n4:cpu,cpuacct:/ci/job\n3:memory:/ci/job\n"

    assert cgroup_quotas(membership, tmp_path) == [0.5]
