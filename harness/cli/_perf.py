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
from harness.perf import (
    PerfPlan,
    PerfResults,
    baseline_summary,
    keep_baseline,
    load_plan,
    measure,
    pool_checked,
    saved_run,
)


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
        runs = [saved_run(Path(path), selected) for path in results]
    elif repeats < 1:
        raise Exit(f"harness: --repeats must be at least 1, got {repeats}", 1)
    else:
        runs = []
        for number in range(1, repeats + 1):
            print(f"run {number} of {repeats}")
            runs.append(_measure_afresh(harness_config, plan, db, selected))
    measured = pool_checked(runs)
    path = harness_config.perf.baseline(measured.backend)
    keep_baseline(measured, path, only_these=bool(scenario))
    for line in baseline_summary(measured):
        print(line)
    print(f"baseline for {measured.backend} recorded in {path}")


def _measure_afresh(
    harness_config: HarnessConfig, plan: PerfPlan, db: str | None, scenarios: list[str]
) -> PerfResults:
    """`scenarios` of `plan` measured on a private stack that is down again afterwards."""
    with private_stack(harness_config, "perf-baseline", db, auto_ports=True) as state:
        return measure(plan, state, scenarios, progress=print)
