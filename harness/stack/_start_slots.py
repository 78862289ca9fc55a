"""How many services start at once: one per usable CPU, those that most services wait on
first.

A service spends its start importing, on the CPU. Ten started together on two cores share
them evenly, so the head of a chain of dependants (records, then exhibits, then facts in
the reference stack) is healthy only about when most of the others are; its dependants
then start late and the stack ends on one busy core. Started at most one per CPU, the
services with the longest chain of others waiting on them first, the chain gets its cores
when it needs them: the reference stack's `up` went from 1.34 times its floor to 1.15-1.19
on SQLite, and from 1.34-1.40 to 1.22-1.32 on PostgreSQL (`benchmarks/lifecycle.py`,
medians of 5 rounds, three runs each, on 2 cores).

Only CPU work is queued: a starting service that has used no CPU for `IDLE` seconds (it
waits on a socket, a lock, a sleep) gives its slot back to the next one. Auxiliary
servers are never queued.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import psutil

from harness.config import HarnessConfig

IDLE = 0.1  # seconds without CPU time after which a starting service frees its slot
TICK = 0.05  # how often slots are looked at while a service waits for one


class StartSlots:
    """The start slots of one stack's `up`."""

    def __init__(self, config: HarnessConfig, cpus: int) -> None:
        self.cpus = cpus
        self._priority = _chains(config)
        self._holders: dict[str, _Holder] = {}

    def first(self, names: Iterable[str]) -> list[str]:
        """`names` in the order they should start: auxiliary servers, then the services
        with the longest chain of others waiting on them (the deepest on a tie)."""
        return sorted(names, key=lambda name: self._priority.get(name, (999, 0)), reverse=True)

    def free(self) -> bool:
        """Whether one more service may start now."""
        now = time.monotonic()
        return sum(holder.busy(now) for holder in self._holders.values()) < self.cpus

    def take(self, name: str, pid: int) -> None:
        self._holders[name] = _Holder(pid)

    def give_back(self, name: str) -> None:
        self._holders.pop(name, None)


class _Holder:
    """A starting service, busy while its CPU time keeps growing."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu = -1.0
        self.changed = time.monotonic()

    def busy(self, now: float) -> bool:
        try:
            times = psutil.Process(self.pid).cpu_times()
        except psutil.Error:
            return False  # gone: its wait reports the exit
        cpu = times.user + times.system
        if cpu != self.cpu:
            self.cpu, self.changed = cpu, now
        return now - self.changed < IDLE


def _chains(config: HarnessConfig) -> dict[str, tuple[int, int]]:
    """Per service: the longest chain of services waiting on it (itself included), and the
    longest it waits on."""
    below: dict[str, int] = {}
    above: dict[str, int] = {}

    def waiting_on(name: str) -> int:
        if name not in below:
            dependants = [n for n, s in config.services.items() if name in s.depends_on]
            below[name] = 1 + max((waiting_on(d) for d in dependants), default=0)
        return below[name]

    def waited_for(name: str) -> int:
        if name not in above:
            needed = [d for d in config.services[name].depends_on if d in config.services]
            above[name] = 1 + max((waited_for(d) for d in needed), default=0)
        return above[name]

    return {name: (waiting_on(name), waited_for(name)) for name in config.services}
