"""A perf run end to end: each scenario after a calibration, with its resources sampled;
then the figures judged against the budgets and compared with the baseline.

`measure(...)` gives `PerfResults`; `assess(...)` gives the verdicts and comparisons the
tests, the report and `invoke perf.*` all show.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from harness import databases
from harness.budgets import Budget, Verdict
from harness.load_runner import LoadRunner
from harness.perf_results import PerfResults, ScenarioResult, summarise
from harness.perf_scenarios import PerfPlan
from harness.regression import Comparison, Runs, compare_runs
from harness.resources import ResourceSampler
from harness.state import DatabaseRecord, RunState


def measure(
    plan: PerfPlan,
    run: RunState,
    scenarios: list[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> PerfResults:
    """Run `scenarios` (default: all) of `plan` one after another against the run's
    services, sampling their processes and, on PostgreSQL, the run's database."""
    urls = {name: record.url for name, record in run.services.items()}
    pids = {name: record.process.pid for name, record in run.services.items()}
    results = PerfResults(backend=run.backend, scenarios={})
    for name in plan.select(scenarios):
        scenario = plan.scenarios[name]
        progress(f"calibrating before {name} ({plan.calibration.requests[0].step.path})")
        calibration = LoadRunner(plan.calibration, urls).run()
        progress(f"running {name}: {scenario.model} model, {scenario.phases.total:g} s")
        with (
            _connection_counter(run.database) as count,
            ResourceSampler(pids, count_connections=count) as sampler,
        ):
            load = LoadRunner(scenario, urls).run()
        peak = max(sampler.connections) if sampler.connections else None
        results.scenarios[name] = summarise(load, calibration, sampler, peak)
    return results


@contextlib.contextmanager
def _connection_counter(record: DatabaseRecord | None) -> Iterator[Callable[[], int] | None]:
    """On PostgreSQL, a function counting the connections to the run's database."""
    if record is None or record.backend != "postgres":
        yield None
        return
    with psycopg.connect(databases.admin_conninfo(record), autocommit=True) as connection:

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

    verdicts: list[Verdict]
    comparisons: dict[str, Comparison]
    baseline: PerfResults | None

    @property
    def notices(self) -> list[str]:
        """Figures that could not be judged: never a failure of the service."""
        return [verdict.text for verdict in self.verdicts if verdict.notice]

    @property
    def failures(self) -> list[str]:
        failed = [verdict.text for verdict in self.verdicts if not verdict.ok]
        failed += [f"{key}: {c.text}" for key, c in self.comparisons.items() if c.regressed]
        return failed


def assess(results: PerfResults, budgets: list[Budget], baseline: PerfResults | None) -> Assessment:
    """Judge every figure against its budget and every request against the baseline."""
    verdicts = [budget.judge(results.figure(budget), results.note(budget)) for budget in budgets]
    return Assessment(verdicts, compare_with(results, baseline), baseline)


def compare_with(results: PerfResults, baseline: PerfResults | None) -> dict[str, Comparison]:
    """Each request present in both: its windows, and its runs against the baseline's."""
    comparisons: dict[str, Comparison] = {}
    if baseline is None:
        return comparisons
    for name, scenario in results.scenarios.items():
        before = baseline.scenarios.get(name)
        for request in scenario.requests:
            if before is not None and request in before.requests:
                comparisons[f"{name}/{request}"] = compare_runs(
                    _runs(scenario, request), _runs(before, request)
                )
    return comparisons


def _runs(scenario: ScenarioResult, request: str) -> Runs:
    figures = scenario.requests[request]
    return Runs(figures.window_p50_ms, figures.run_p50_ms, scenario.run_calibration_p50_ms)
