"""A perf run end to end: each scenario between two calibrations, its resources and the
machine's load sampled; then the figures judged against the budgets (aware of the
machine, `harness.perf._verdicts`), compared with the baseline, and the stress ramps run.

`measure(...)` gives `PerfResults` (what `invoke perf.baseline` keeps);
`measure_and_assess(...)` what the perf tests judge, measuring again while the machine
is too busy and to confirm a regression; `assess(...)` judges saved results.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from harness.db import admin_conninfo
from harness.infra import DatabaseRecord, RunState
from harness.perf import _environment as environment
from harness.perf import _machine as machine
from harness.perf import _stress as stress
from harness.perf import _verdicts as verdicts
from harness.perf._budgets import Budget, BudgetVerdict
from harness.perf._load_runner import LoadRunner, RequestFigures
from harness.perf._loaded_calibration import LoadedCalibration
from harness.perf._redis_latency import RedisLatencySampler
from harness.perf._regression import Comparison, Runs, compare_runs
from harness.perf._resources import ResourceSampler
from harness.perf._results import PerfResults, ScenarioResult, summarise
from harness.perf._scenarios import PerfPlan, Scenario, command_time


def measure(
    plan: PerfPlan,
    run: RunState,
    scenarios: list[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> PerfResults:
    """Run `scenarios` (default: all) of `plan` one after another against the run's
    services, sampling their processes and, on PostgreSQL, the run's database."""
    results = PerfResults(run.backend, {}, machine=environment.describe(run.database))
    for name in plan.select(scenarios):
        results.scenarios[name] = measure_scenario(plan, run, name, progress)
    return results


def measure_scenario(
    plan: PerfPlan, run: RunState, name: str, progress: Callable[[str], None] = lambda line: None
) -> ScenarioResult:
    """One scenario between two calibrations, its resources and the machine's load sampled."""
    urls = {service: record.url for service, record in run.services.items()}
    scenario = plan.scenarios[name]
    calibration = plan.calibration.requests[0].step
    pids = _sampled_pids(run, scenario)
    ours = _run_pids(run)
    progress(f"calibrating before {name} ({calibration.path})")
    before = LoadRunner(plan.calibration, urls).run()
    progress(f"running {name}: {scenario.model} model, {scenario.phases.total:g} s")
    with (
        _connection_counter(run.database) as count,
        ResourceSampler(pids, count_connections=count) as sampler,
        contextlib.ExitStack() as samplers,
    ):
        timed = {
            server: samplers.enter_context(RedisLatencySampler(run.servers[server].url))
            for server in scenario.redis
        }
        probe = samplers.enter_context(LoadedCalibration(urls[calibration.service], calibration))
        start = machine.snapshot(ours)
        load = LoadRunner(scenario, urls).run()
        use = machine.between(start, machine.snapshot(ours))
    command_times = {
        command_time(server): RequestFigures(redis_sampler.windows(load.window_bounds))
        for server, redis_sampler in timed.items()
    }
    after = LoadRunner(plan.calibration, urls).run()
    peak = max(sampler.connections) if sampler.connections else None
    return summarise(
        load,
        [before, after],
        sampler,
        use,
        peak,
        watched=scenario.watched,
        bucketed=command_times,
        loaded_calibration_ms=probe.p50_ms(load.measure_start, load.window_bounds[-1]),
    )


def _sampled_pids(run: RunState, scenario: Scenario) -> dict[str, int]:
    """The pid of each member the scenario sends to or watches, by name."""
    sampled = scenario.services | scenario.watched
    members = {**run.services, **run.servers}
    return {member: record.process.pid for member, record in members.items() if member in sampled}


def _run_pids(run: RunState) -> list[int]:
    """The services', auxiliary servers' and database cluster's processes: the run's own."""
    cluster = run.database.cluster if run.database else None
    members = [record.process.pid for record in run.processes()]
    return [*members, *([cluster.pid] if cluster else [])]


@contextlib.contextmanager
def _connection_counter(record: DatabaseRecord | None) -> Iterator[Callable[[], int] | None]:
    """On PostgreSQL, a function counting the connections to the run's database."""
    if record is None or record.backend != "postgres":
        yield None
        return
    with psycopg.connect(admin_conninfo(record), autocommit=True) as connection:

        def count() -> int:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (record.name,)
            ).fetchone()
            return int(row[0]) if row else 0

        yield count


@dataclass(frozen=True)
class Assessment:
    """Budget verdicts, comparisons with the baseline (by 'scenario/request') and the
    scenarios whose figures the generator may have set."""

    verdicts: list[BudgetVerdict]
    comparisons: dict[str, Comparison]
    baseline: PerfResults | None

    @property
    def notices(self) -> list[str]:
        """Figures that could not be judged: never a failure of the service."""
        notices = [verdict.text for verdict in self.verdicts if verdict.notice]
        return notices + [
            f"{key}: {c.text}" for key, c in self.comparisons.items() if c.inconclusive
        ]

    @property
    def failures(self) -> list[str]:
        failed = [verdict.text for verdict in self.verdicts if not verdict.ok]
        failed += [f"{key}: {c.text}" for key, c in self.comparisons.items() if c.regressed]
        return failed


def measure_and_assess(
    plan: PerfPlan,
    run: RunState,
    scenarios: list[str],
    budgets: list[Budget],
    baseline: PerfResults | None,
    progress: Callable[[str], None] = lambda line: None,
) -> tuple[PerfResults, Assessment]:
    """Each scenario measured and judged (`harness.perf._verdicts`: measured again while a breach
    may be the busy machine's doing), then compared with the baseline; a scenario slower
    than the baseline is measured once more, and its regressions stand only if confirmed."""
    results = PerfResults(run.backend, {}, machine=environment.describe(run.database))
    judged: list[BudgetVerdict] = []
    for name in plan.select(scenarios):
        outcome = verdicts.judge(
            functools.partial(measure_scenario, plan, run, name, progress),
            [budget for budget in budgets if budget.scenario == name],
            _quiet_calibrations(baseline, name),
            _quiet_wait(baseline, name),
            progress,
        )
        results.scenarios[name] = outcome.result
        judged += outcome.verdicts
    # confirmed before the stress ramps strain the services
    comparisons = _confirmed_comparisons(plan, run, results, baseline, progress)
    urls = {service: record.url for service, record in run.services.items()}
    for name, ramp in plan.ramps.items():
        if ramp.scenario not in results.scenarios:
            continue
        progress(f"stress {name}: {ramp.scenario} at {list(ramp.levels)}")
        with _connection_counter(run.database) as count:
            results.stress[name] = stress.run_ramp(
                ramp,
                plan.scenarios[ramp.scenario],
                urls,
                [budget for budget in budgets if budget.scenario == ramp.scenario],
                count,
                ours=_run_pids(run),
            )
    return results, Assessment(judged, comparisons, baseline)


def _confirmed_comparisons(
    plan: PerfPlan,
    run: RunState,
    results: PerfResults,
    baseline: PerfResults | None,
    progress: Callable[[str], None],
) -> dict[str, Comparison]:
    """`results` compared with the baseline; each scenario with a regression measured again
    at once, and its regressions kept only where that measurement regresses too."""
    comparisons = compare_with(results, baseline)
    regressed = (key.partition("/")[0] for key, c in comparisons.items() if c.regressed)
    for name in dict.fromkeys(regressed):
        progress(f"{name}: slower than the baseline; measuring again to confirm")
        again = PerfResults(
            results.backend,
            {name: measure_scenario(plan, run, name, progress)},
            machine=results.machine,
        )
        comparisons |= verdicts.confirm(comparisons, compare_with(again, baseline))
    return comparisons


def assess(results: PerfResults, budgets: list[Budget], baseline: PerfResults | None) -> Assessment:
    """Judge every figure against its budget and every request against the baseline."""
    judged = [
        verdict
        for name, result in results.scenarios.items()
        for verdict in verdicts.judge_result(
            result,
            [budget for budget in budgets if budget.scenario == name],
            min([*_quiet_calibrations(baseline, name), *result.run_calibration_p50_ms]),
            _quiet_wait(baseline, name),
        )
    ]
    judged += [
        budget.judge(None, "the scenario did not run")
        for budget in budgets
        if budget.scenario not in results.scenarios
    ]
    return Assessment(judged, compare_with(results, baseline), baseline)


def _quiet_calibrations(baseline: PerfResults | None, scenario: str) -> list[float]:
    before = baseline.scenarios.get(scenario) if baseline else None
    return [] if before is None else before.run_calibration_p50_ms


def _quiet_wait(baseline: PerfResults | None, scenario: str) -> float:
    """How long the scenario's own processes waited for a CPU in its baseline (highest)."""
    before = baseline.scenarios.get(scenario) if baseline else None
    return max(before.wait_ratio, default=0.0) if before else 0.0


def compare_with(results: PerfResults, baseline: PerfResults | None) -> dict[str, Comparison]:
    """Each request present in both, but those read in buckets: its windows, and its runs
    against the baseline's."""
    comparisons: dict[str, Comparison] = {}
    if baseline is None:
        return comparisons
    differences = environment.differences(baseline.machine, results.machine)
    for name, scenario in results.scenarios.items():
        before = baseline.scenarios.get(name)
        if before is None:
            continue
        loaded = _loaded_every_run(scenario) and _loaded_every_run(before)
        anchor = f"the calibration endpoint{' under the same load' * loaded}"
        for request in scenario.requests:
            if request in scenario.bucketed:
                continue
            if request in before.requests:
                current, stored = _runs(scenario, request, loaded), _runs(before, request, loaded)
                comparison = verdicts.judge_comparison(
                    compare_runs(current, stored, anchor=anchor), current, stored, scenario
                )
                comparisons[f"{name}/{request}"] = verdicts.judge_setup(
                    comparison, differences, results.backend
                )
    return comparisons


def _loaded_every_run(scenario: ScenarioResult) -> bool:
    """Whether each run has its calibration under load (baselines before it have none)."""
    return len(scenario.loaded_calibration_p50_ms) == len(scenario.run_calibration_p50_ms)


def _runs(scenario: ScenarioResult, request: str, loaded: bool) -> Runs:
    """One side of a comparison; each run's yardstick the calibration under load when
    both sides have it for every run, else the lone calibration before the run."""
    figures = scenario.requests[request]
    return Runs(
        figures.window_p50_ms,
        figures.run_p50_ms,
        scenario.loaded_calibration_p50_ms if loaded else scenario.run_calibration_p50_ms,
        scenario.wait_ratio,
    )
