"""What the services use while the load runs: RSS and CPU per process tree, and on
PostgreSQL the connections to the run's database, sampled from a background thread.

Samples carry `time.perf_counter()` stamps, the load runner's clock, so a figure can be
read for any moment of the run afterwards: RSS at the end of each measurement window
(`harness.perf._memory_trend`), or CPU over the measured span only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from harness.perf._periodic import Periodic

MIB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """One moment: RSS (bytes) and CPU seconds used so far, per service."""

    at: float
    rss: dict[str, int]
    cpu_seconds: dict[str, float]


@dataclass
class ResourceSampler(Periodic):
    """Samples `pids` (service or server -> pid, children included) every `interval` seconds.

    `count_connections`, when given, is called at each sample too (PostgreSQL).
    """

    pids: dict[str, int]
    interval: float = 0.1
    count_connections: Callable[[], int] | None = None
    samples: list[Sample] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in self.pids.items()}

    def _take(self) -> None:
        rss: dict[str, int] = {}
        cpu: dict[str, float] = {}
        for name, process in self._processes.items():
            rss[name], cpu[name] = _tree_use(process)
        self.samples.append(Sample(time.perf_counter(), rss, cpu))
        if self.count_connections is not None:
            self.connections.append(self.count_connections())

    def rss_series(self, service: str) -> list[tuple[float, int]]:
        """Every sample's moment and RSS (bytes) of `service`."""
        return [(sample.at, sample.rss[service]) for sample in self.samples]

    def peak_rss_mb(self, service: str, start: float, end: float) -> float:
        return max(s.rss[service] for s in self._between(start, end)) / MIB

    def cpu_percent(self, service: str, start: float, end: float) -> float:
        """Mean CPU use of `service` from `start` to `end`, in % of one core."""
        window = self._between(start, end)
        first, last = window[0], window[-1]
        elapsed = last.at - first.at
        used = last.cpu_seconds[service] - first.cpu_seconds[service]
        return 100 * used / elapsed if elapsed > 0 else 0.0

    def _between(self, start: float, end: float) -> list[Sample]:
        """Samples from the last one before `start` to the first one after `end`."""
        before = [s for s in self.samples if s.at <= start][-1:]
        inside = [s for s in self.samples if start < s.at < end]
        after = [s for s in self.samples if s.at >= end][:1]
        return before + inside + after or self.samples


def _tree_use(process: psutil.Process) -> tuple[int, float]:
    """RSS and CPU seconds of a process and its children; 0 for any that has exited."""
    rss = 0
    cpu = 0.0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0.0
    for member in members:
        try:
            with member.oneshot():
                rss += member.memory_info().rss
                times = member.cpu_times()
                cpu += times.user + times.system
        except psutil.Error:
            continue
    return rss, cpu
