"""The committed baselines: one per back end, of at least 3 runs of every scenario and
every request of perf/scenarios.toml, each run with its calibration under load, and the
setup they were recorded on, so `nox`'s regression tests all run (none skipped) and judge.
A scenario or request added without re-recording fails here, naming the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config._project import load_config
from harness.perf._environment import JUDGED
from harness.perf._regression import MIN_BASELINE_RUNS
from harness.perf._results import PerfResults
from harness.perf._scenarios import load_plan

ROOT = Path(__file__).parents[2]
CONFIG = load_config(ROOT / "pyproject.toml")


@pytest.mark.parametrize("db", CONFIG.backends)
def test_the_committed_baseline_covers_every_request_with_enough_runs(db):
    path = CONFIG.perf.baseline(db)
    record = f"invoke perf.baseline --db {db} on a quiet machine, then commit {path.name}"
    assert path.exists(), f"no baseline at {path}: {record}"
    baseline = PerfResults.load(path)
    plan = load_plan(CONFIG)

    assert baseline.backend == db
    assert set(JUDGED) <= set(baseline.machine), f"{path} keeps no setup: {record}"
    for name, scenario in plan.scenarios.items():
        assert name in baseline.scenarios, f"scenario {name!r} not in {path}: {record}"
        recorded = baseline.scenarios[name]
        assert len(recorded.run_calibration_p50_ms) >= MIN_BASELINE_RUNS, record
        # every run's yardstick under load, or the gate falls back to the lone calibration
        assert len(recorded.loaded_calibration_p50_ms) == len(recorded.run_calibration_p50_ms)
        missing = [name for name in scenario.compared_names if name not in recorded.requests]
        assert not missing, f"requests {missing} of {name!r} not in {path}: {record}"
        assert not recorded.invalid_reasons
