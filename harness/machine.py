"""How busy the machine was while a scenario ran, from the kernel's own accounts.

Two figures over the span, both independent of the services' speed:

- `others_share`: the share of the machine's CPU capacity used by processes that are
  not the run's (not the services' trees, the database cluster's or this generator),
  steal time of a virtual machine included: a neighbour's load;
- `wait_ratio`: how long the run's own threads waited in the run queue for a CPU per
  second they ran (`/proc/<pid>/task/<tid>/schedstat`): 0 on a quiet machine, about 2
  when two busy loops share its two cores with them.

`harness.verdicts` reads them to tell a slow service from a slow machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

BUSY_WAIT_RATIO = 0.5  # run-queue wait per second on a CPU beyond which the machine is busy
BUSY_OTHERS_SHARE = 0.25  # share of the CPUs others used beyond which the machine is busy
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    """Machine-wide busy and total CPU seconds; the run's CPU and run-queue seconds."""

    busy: float
    total: float
    ours_cpu: float
    ours_wait: float


@dataclass(frozen=True)
class MachineUse:
    """The two figures over a span, and the verdict they give."""

    others_share: float
    wait_ratio: float

    @property
    def busy(self) -> bool:
        return self.wait_ratio > BUSY_WAIT_RATIO or self.others_share > BUSY_OTHERS_SHARE

    @property
    def text(self) -> str:
        return (
            f"others used {self.others_share:.0%} of the CPUs and the run's processes waited "
            f"{self.wait_ratio:.2f} s for a CPU per second they ran"
        )


def snapshot(pids: list[int]) -> Snapshot:
    """The machine's CPU accounts now; `pids` and their children are the run's own, with
    this process (the generator; not its children, which may be anyone's)."""
    busy, total = _machine_seconds()
    cpu = wait = 0.0
    for process in [psutil.Process(), *_members(pids)]:
        process_cpu, process_wait = _scheduled(process)
        cpu += process_cpu
        wait += process_wait
    return Snapshot(busy, total, cpu, wait)


def between(first: Snapshot, last: Snapshot) -> MachineUse:
    """What the machine did from `first` to `last`."""
    total = last.total - first.total
    ours = last.ours_cpu - first.ours_cpu
    others = max(last.busy - first.busy - ours, 0.0)
    return MachineUse(
        others_share=others / total if total > 0 else 0.0,
        wait_ratio=(last.ours_wait - first.ours_wait) / ours if ours > 0 else 0.0,
    )


def _machine_seconds() -> tuple[float, float]:
    """CPU seconds of all CPUs since boot: busy (steal included) and in all."""
    line = Path("/proc/stat").read_text().split("\n", 1)[0]
    fields = [int(value) for value in line.split()[1:9]]  # user .. steal; guest is in user
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields)
    return (total - idle) / _TICKS, total / _TICKS


def _members(pids: list[int]) -> list[psutil.Process]:
    members: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for member in [process, *process.children(recursive=True)]:
                members[member.pid] = member
        except psutil.Error:
            continue
    return list(members.values())


def _scheduled(process: psutil.Process) -> tuple[float, float]:
    """Seconds on a CPU and waiting in the run queue, over the process's threads (0 for
    one that is gone, or a kernel without schedstat)."""
    cpu = wait = 0.0
    try:
        tasks = list(Path(f"/proc/{process.pid}/task").iterdir())
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            running, waiting, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        cpu += int(running) / 1e9
        wait += int(waiting) / 1e9
    return cpu, wait
