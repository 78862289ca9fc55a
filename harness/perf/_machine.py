"""How busy the machine was while a scenario ran, from the kernel's own accounts.

Two figures over the span, both independent of the services' speed:

- `others_share`: the share of the machine's CPU capacity used by processes that are
  not the run's (not the services' trees, the database cluster's or this generator),
  steal time of a virtual machine included: a neighbour's load;
- `wait_ratio`: how long the run's own threads waited in the run queue for a CPU per
  second they ran (`/proc/<pid>/task/<tid>/schedstat`): 0 on a quiet machine, about 2
  when two busy loops share its two cores with them.

`harness.perf._verdicts` reads them to tell a slow service from a slow machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

BUSY_WAIT_RATIO = 0.5  # run-queue wait per CPU second beyond the scenario's own: a busy machine
BUSY_OTHERS_SHARE = 0.25  # share of the CPUs others used beyond which the machine is busy
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    """Machine-wide busy and total CPU seconds; per process of the run, its CPU and
    run-queue seconds (processes come and go: a database backend per connection)."""

    busy: float
    total: float
    ours: dict[int, tuple[float, float]]


@dataclass(frozen=True)
class MachineUse:
    """The two figures over a span, and the verdict they give."""

    others_share: float
    wait_ratio: float

    def busy(self, own_wait: float = 0.0) -> bool:
        """Others used over `BUSY_OTHERS_SHARE` of the CPUs, or the run's processes waited
        `BUSY_WAIT_RATIO` longer than `own_wait`, what the scenario's own load makes them
        wait on a quiet machine (its baseline's; a scenario that keeps the CPUs busy by
        itself waits about 0.5 s per CPU second here with nothing else running)."""
        return self.wait_ratio > own_wait + BUSY_WAIT_RATIO or self.others_share > BUSY_OTHERS_SHARE

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
    ours = {process.pid: _scheduled(process) for process in [psutil.Process(), *_members(pids)]}
    return Snapshot(busy, total, ours)


def between(first: Snapshot, last: Snapshot) -> MachineUse:
    """What the machine did from `first` to `last`: a process of the run counts from the
    first snapshot, or from 0 when it started since; one that exited since is lost (its
    time then counts as others')."""
    total = last.total - first.total
    cpu = wait = 0.0
    for pid, (cpu_now, wait_now) in last.ours.items():
        cpu_then, wait_then = first.ours.get(pid, (0.0, 0.0))
        cpu += max(cpu_now - cpu_then, 0.0)
        wait += max(wait_now - wait_then, 0.0)
    others = max(last.busy - first.busy - cpu, 0.0)
    return MachineUse(
        others_share=others / total if total > 0 else 0.0,
        wait_ratio=wait / cpu if cpu > 0 else 0.0,
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
