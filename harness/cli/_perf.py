"""`perf.baseline`: measure the perf scenarios and record the baseline."""

from __future__ import annotations

from pathlib import Path

from invoke import Context, Exit, task

from harness.cli._common import (
    COMMON_HELP,
    DB_HELP,
    private_stack,
    project,
    reports_errors,
)
from harness.config import HarnessConfig
from harness.perf import PerfPlan, PerfResults, load_plan, measure, pooled


@task(
    name="baseline",
    help={
        "db": DB_HELP,
        "config": COMMON_HELP["config"],
        "scenario": "record only this scenario (repeatable); the baseline keeps the others",
        "repeats": "runs to measure, each on a fresh stack (default: 5): the baseline's "
        "run-to-run noise",
        "results": "record these saved results instead (repeatable, e.g. "
        "reports/perf/sqlite.json), measure nothing",
    },
    iterable=["scenario", "results"],
)
@reports_errors
def record_baseline(
    c: Context,
    db: str | None = None,
    config: str = "pyproject.toml",
    scenario: list[str] | None = None,
    repeats: int = 5,
    results: list[str] | None = None,
) -> None:
    """Measure the perf scenarios several times and keep the pooled runs as the baseline."""
    harness_config = project(config)
    plan = load_plan(harness_config)
    selected = plan.select(scenario)
    if results:
        runs = [_saved_run(Path(path), selected) for path in results]
    elif repeats < 1:
        raise Exit(f"harness: --repeats must be at least 1, got {repeats}", 1)
    else:
        runs = []
        for number in range(1, repeats + 1):
            print(f"run {number} of {repeats}")
            runs.append(_measure_afresh(harness_config, plan, db, selected))
    backends = {run.backend for run in runs}
    if len(backends) > 1:
        raise Exit(f"harness: not recorded, the results are of several back ends {backends}", 1)
    measured = pooled(runs)
    invalid = {
        name: s.invalid_reasons for name, s in measured.scenarios.items() if s.invalid_reasons
    }
    if invalid:
        raise Exit(f"harness: not recorded, the load generator set the figures: {invalid}", 1)
    path = harness_config.perf.baseline(measured.backend)
    if path.exists() and scenario:
        kept = PerfResults.load(path)
        measured.scenarios = {**kept.scenarios, **measured.scenarios}
    measured.save(path)
    for name, result in measured.scenarios.items():
        calibrations = ", ".join(f"{p50:.3f}" for p50 in result.run_calibration_p50_ms)
        print(
            f"{name}: {len(result.run_calibration_p50_ms)} run(s), {result.throughput:.1f} req/s,"
            f" calibration p50 {calibrations} ms"
        )
    print(f"baseline for {measured.backend} recorded in {path}")


def _saved_run(path: Path, selected: list[str]) -> PerfResults:
    """Saved results holding (at least) the `selected` scenarios, cut down to them."""
    saved = PerfResults.load(path)
    missing = [name for name in selected if name not in saved.scenarios]
    if missing:
        raise Exit(
            f"harness: not recorded, {path} has no figures for scenario {missing}; "
            "name the ones it has with --scenario",
            1,
        )
    saved.scenarios = {name: saved.scenarios[name] for name in selected}
    return saved


def _measure_afresh(
    harness_config: HarnessConfig, plan: PerfPlan, db: str | None, scenarios: list[str]
) -> PerfResults:
    """`scenarios` of `plan` measured on a private stack that is down again afterwards."""
    with private_stack(harness_config, "perf-baseline", db, auto_ports=True) as state:
        return measure(plan, state, scenarios, progress=print)
