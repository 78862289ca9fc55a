"""Stress and capacity: a scenario's load raised level by level until a budget breaks.

    [stress.read_capacity]          # in scenarios.toml (`perf_scenarios.Ramp`)
    scenario = "steady_reads"       # its requests and setup; open: levels are rates (req/s),
    levels = [60, 120, 240, 480]    # closed: numbers of users (more than a connection pool)
    step = 3                        # seconds measured per level

Each level runs after a short warm-up and is judged against the scenario's request
budgets (latency and error rate). The knee is the highest level at which every budget
held, before the first that broke one (a level whose users cannot even be set up broke
them all). After the last level and a pause of one step, the first runs again: the
services recovered (degraded gracefully) when it shows no more errors than it did the
first time and its p50 is at most twice the first time's, that allowance stretched by how
much longer the run's own processes waited for a CPU than at the first level (the kernel's
run-queue accounts, `harness.perf._machine`: a neighbour's load, not the services' state),
and per request by how much larger its answers grew (a listing of every row lengthens with
the rows the ramp created: more work the service was asked for, not a service still
degraded; how many rows that is depends on the machine's speed). A request with fewer
than `MIN_RECOVERY_ANSWERS` answers at either level is judged by its errors alone.
A recovery that falls short is measured again after another pause, up to
`RECOVERY_ATTEMPTS` times: a service that stays degraded falls short every time, where a
neighbour's burst of load (CI measured a p50 twice the first level's once, right after
the ramp) passes. On PostgreSQL the connections
to the run's database are counted after the first level and after the recovery, and
reported: a pool keeps up to its size idle, so more afterwards is not by itself a leak.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from harness.perf import _latency as latency
from harness.perf import _machine as machine
from harness.perf._budgets import Budget
from harness.perf._latency import PERCENTILES
from harness.perf._load_runner import LoadResult, LoadRunner, SetupError
from harness.perf._scenarios import Phases, Ramp, Scenario

RECOVERY_FACTOR = 2.0
RECOVERY_ATTEMPTS = 3
# answers a request needs at both levels for its p50 to be judged: drafting's template
# creation (3% of the mix) got 17 at 10 users in a 3 s step, and its p50 read 1.95 ms at
# the first level and 6.5 ms three times after the ramp, where its baseline is 2.4-2.9 ms
MIN_RECOVERY_ANSWERS = 30
_SETUP_FAILED = "setup failed"


@dataclass
class Level:
    """One level's figures: per request p50..p99.9 (ms) and error rate; breaches."""

    level: float
    percentiles_ms: dict[str, dict[str, float]]
    error_rates: dict[str, float]
    breaches: list[str] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)
    wait_ratio: float = 0.0  # the run's processes' run-queue wait per second on a CPU
    response_bytes: dict[str, float] = field(default_factory=dict)  # mean body per request
    answers: dict[str, int] = field(default_factory=dict)  # successful answers per request

    @property
    def setup_failed(self) -> bool:
        return any(breach.startswith(_SETUP_FAILED) for breach in self.breaches)

    @property
    def server_errors(self) -> list[str]:
        """The examples of errors that were a 500: an unhandled failure, where an overload
        should get a deliberate 502, 503 or 504 that says what was slow."""
        return [e for e in self.error_examples if re.search(r": 500, expected", e)]


@dataclass
class RampResult:
    """The levels, the knee (None: the first level broke a budget), the recovery run."""

    name: str
    model: str
    levels: list[Level]
    knee: float | None
    recovery: Level
    recovered: bool
    connections_before: int | None = None
    connections_after: int | None = None
    recovery_attempts: int = 1

    @property
    def text(self) -> str:
        unit = "req/s" if self.model == "open" else "users"
        knee = f"knee at {self.knee:g} {unit}" if self.knee is not None else "no level held"
        past = [level for level in self.levels if level.breaches]
        beyond = (
            f"; at {past[0].level:g} {unit}: {'; '.join(past[0].breaches)}"
            if past
            else "; every level held"
        )
        recovery = "recovered" if self.recovered else "did NOT recover"
        if self.recovery_attempts > 1:
            recovery += f" (measured {self.recovery_attempts} times)"
        shortfalls = recovery_shortfalls(self.levels[0], self.recovery)
        stretch = machine_stretch(self.levels[0], self.recovery)
        busier = (
            f" (the machine was busier: p50 allowed {stretch:.1f}x more)" if stretch >= 1.1 else ""
        )
        pool = (
            f"; database connections {self.connections_before} at the first level, "
            f"{self.connections_after} after the ramp"
            if self.connections_before is not None
            else ""
        )
        first = f"{self.levels[0].level:g} {unit}"
        short = f": {'; '.join(shortfalls)}" if shortfalls else ""
        return f"{self.name}: {knee}{beyond}; {recovery} at {first}{short}{busier}{pool}"


def at_level(scenario: Scenario, level: float, step: float) -> Scenario:
    """`scenario` at one level: that rate (open) or that many users (closed)."""
    phases = Phases(warmup=min(1.0, step / 3), sustain=step)
    if scenario.model == "open":
        return replace(scenario, rate=level, phases=phases, windows=1, max_requests=None)
    return replace(scenario, users=int(level), phases=phases, windows=1, max_requests=None)


def run_ramp(
    ramp: Ramp,
    scenario: Scenario,
    urls: dict[str, str],
    budgets: list[Budget],
    count_connections: Callable[[], int] | None = None,
    ours: Sequence[int] = (),
) -> RampResult:
    """Every level, then the first again until it recovered (at most `RECOVERY_ATTEMPTS`
    times); judged against the scenario's request budgets. `ours`: the run's processes,
    whose wait for a CPU is read at each level."""

    def measure(level: float) -> Level:
        start = machine.snapshot(list(ours))
        figures = _level(ramp, scenario, urls, budgets, level)
        figures.wait_ratio = machine.between(start, machine.snapshot(list(ours))).wait_ratio
        return figures

    levels = [measure(ramp.levels[0])]
    before = count_connections() if count_connections else None
    levels += [measure(level) for level in ramp.levels[1:]]
    recovery, attempts = _recovery(ramp, measure, levels[0])
    after = count_connections() if count_connections else None
    held = [level.level for level in _until_breach(levels)]
    return RampResult(
        ramp.name,
        scenario.model,
        levels,
        knee=held[-1] if held else None,
        recovery=recovery,
        recovered=has_recovered(levels[0], recovery),
        connections_before=before,
        connections_after=after,
        recovery_attempts=attempts,
    )


def _recovery(ramp: Ramp, measure: Callable[[float], Level], first: Level) -> tuple[Level, int]:
    """The first level again after a pause of one step (the services' own backlog drains),
    until it has recovered or `RECOVERY_ATTEMPTS` measurements fell short; and their count."""
    attempts = 0
    while True:
        attempts += 1
        time.sleep(ramp.step)
        again = measure(first.level)
        if has_recovered(first, again) or attempts == RECOVERY_ATTEMPTS:
            return again, attempts


def has_recovered(first: Level, again: Level) -> bool:
    """`again` (the first level run after the ramp) falls short of `first` in nothing."""
    return not recovery_shortfalls(first, again)


def recovery_shortfalls(first: Level, again: Level) -> list[str]:
    """Where `again` falls short of `first`: its users could not be set up, or a request
    shows more errors, or a p50 over `RECOVERY_FACTOR` times the first's (1 ms at least),
    stretched by `machine_stretch` and by that request's `size_stretch`; a p50 of fewer
    than `MIN_RECOVERY_ANSWERS` answers at either level is too loose to judge."""
    if again.setup_failed:
        return ["its users could not be set up"]
    shortfalls = []
    machine = machine_stretch(first, again)
    for name, errors in first.error_rates.items():
        if again.error_rates[name] > errors + 0.01:
            shortfalls.append(
                f"{name} error rate {again.error_rates[name]:.1%} > {errors:.1%} + 1%"
            )
        if (
            min(
                first.answers.get(name, MIN_RECOVERY_ANSWERS),
                again.answers.get(name, MIN_RECOVERY_ANSWERS),
            )
            < MIN_RECOVERY_ANSWERS
        ):
            continue
        allowance = RECOVERY_FACTOR * machine * size_stretch(first, again, name)
        p50, before = again.percentiles_ms[name]["p50"], max(first.percentiles_ms[name]["p50"], 1.0)
        if p50 > allowance * before:
            shortfalls.append(f"{name} p50 {p50:g} ms > {allowance:.1f} x {before:g} ms")
    return shortfalls


def machine_stretch(first: Level, again: Level) -> float:
    """How much slower the machine alone makes `again` than `first`: a thread that waits W
    s for a CPU per second it runs takes 1 + W times as long (never under 1)."""
    return max(1.0, (1 + again.wait_ratio) / (1 + first.wait_ratio))


def size_stretch(first: Level, again: Level, name: str) -> float:
    """How much larger `again`'s answers to `name` were than `first`'s (never under 1)."""
    before, after = first.response_bytes.get(name, 0.0), again.response_bytes.get(name, 0.0)
    return max(1.0, after / before) if before else 1.0


def _until_breach(levels: list[Level]) -> list[Level]:
    held = []
    for level in levels:
        if level.breaches:
            break
        held.append(level)
    return held


def _level(
    ramp: Ramp, scenario: Scenario, urls: dict[str, str], budgets: list[Budget], level: float
) -> Level:
    """One level measured; one whose users could not even be set up broke every budget."""
    try:
        load = LoadRunner(at_level(scenario, level, ramp.step), urls).run()
    except SetupError as exc:
        names = [request.name for request in scenario.requests]
        return Level(
            level,
            percentiles_ms={name: dict.fromkeys(PERCENTILES, 0.0) for name in names},
            error_rates=dict.fromkeys(names, 1.0),
            breaches=[f"{_SETUP_FAILED}: {exc}"],
            error_examples=[str(exc)],
        )
    return judge_level(load, level, budgets)


def judge_level(load: LoadResult, level: float, budgets: list[Budget]) -> Level:
    """One level's figures beside the scenario's request budgets."""
    figures = Level(
        level,
        percentiles_ms={
            name: latency.LatencySummary.of(request.histogram).percentiles_ms
            for name, request in load.requests.items()
        },
        error_rates={name: request.error_rate for name, request in load.requests.items()},
        response_bytes={
            name: request.mean_response_bytes for name, request in load.requests.items()
        },
        answers={name: request.count for name, request in load.requests.items()},
        error_examples=[e for request in load.requests.values() for e in request.error_examples],
    )
    for budget in budgets:
        if budget.level != "requests" or budget.name not in load.requests:
            continue
        if budget.metric in PERCENTILES:
            figure = figures.percentiles_ms[budget.name][budget.metric]
        elif budget.metric == "max_error_rate":
            figure = figures.error_rates[budget.name]
        else:
            continue
        if not budget.within(figure):
            figures.breaches.append(f"{budget.name} {budget.metric} {figure:g} > {budget.limit:g}")
    return figures
