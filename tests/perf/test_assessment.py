"""A perf run end to end against real delay servers: figures, budgets, the baseline gate,
resource figures and the reports; and the budgets file's errors."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from harness.exceptions import ConfigError
from harness.infra import RunState
from harness.perf import _assessment as perf
from harness.perf import _report as perf_report
from harness.perf._budgets import load_budgets
from harness.perf._outcome import PerfOutcome
from harness.perf._results import PerfResults, pooled
from harness.perf._scenarios import PerfPlan, Phases, Scenario, Step, WeightedRequest
from harness.stack._stack import Stack
from tests.conftest import delay_command, redis_server

BUDGETS = """
[requests.probe]
p50 = {p50}
[services.default]
max_rss_mb = 500
"""


def plan(windows: int = 6) -> PerfPlan:
    """A closed 4-user probe of `slow`, calibrated on `quick` (which answers at once)."""
    probe = Scenario(
        name="probe",
        model="closed",
        users=4,
        requests=(WeightedRequest("probe", 1.0, Step("slow", "GET", "/")),),
        phases=Phases(warmup=0.3, sustain=1.8),
        windows=windows,
    )
    calibration = Scenario(
        name="calibration",
        model="closed",
        users=1,
        requests=(WeightedRequest("calibration", 1.0, Step("quick", "GET", "/")),),
        phases=Phases(warmup=0.2, sustain=0.6),
        windows=3,
    )
    return PerfPlan(calibration, {"probe": probe})


@pytest.fixture
def run_at(make_config):
    """`run_at(delay_ms)`: a running stack of a slow service of that delay and a quick one."""
    stacks: list[Stack] = []

    def start(delay_ms: float) -> RunState:
        config = make_config(
            {
                "slow": {"command": delay_command(delay_ms), "health": "/"},
                "quick": {"command": delay_command(0), "health": "/"},
            }
        )
        stack = Stack(config, f"perf-{len(stacks)}")
        stacks.append(stack)
        return stack.up("sqlite", auto_ports=True, detach=True)

    yield start
    for stack in stacks:
        stack.down()


@pytest.fixture
def measure_at(run_at):
    """`measure_at(delay_ms)`: results of `plan()` against a slow service of that delay."""
    return lambda delay_ms: perf.measure(plan(), run_at(delay_ms))


def budgets(tmp_path: Path, text: str):
    path = tmp_path / "budgets.toml"
    path.write_text(text)
    return load_budgets(path, plan(), {"slow", "quick"}, "sqlite")


def test_figures_budgets_and_a_slowdown_against_the_baseline(measure_at, tmp_path):
    # Every expectation below holds however busy the machine: a delay server cannot answer
    # faster than its delay, a run inside the baseline is within the baseline's own noise,
    # and 200 ms against 5 ms is a slowdown no neighbour's load can hide.
    first, second, third = measure_at(5), measure_at(5), measure_at(5)
    baseline = pooled([first, second, third])
    slower = measure_at(200)

    probe = first.scenarios["probe"]
    assert probe.requests["probe"].percentiles_ms["p50"] >= 5
    assert len(probe.requests["probe"].window_p50_ms) == 6
    assert probe.calibration_p50_ms > 0
    assert probe.services["slow"].peak_rss_mb > 5
    both = baseline.scenarios["probe"]
    assert len(both.requests["probe"].window_p50_ms) == 18
    assert len(both.requests["probe"].run_p50_ms) == len(both.run_calibration_p50_ms) == 3
    assert len(both.loaded_calibration_p50_ms) == 3  # the calibration under each run's load
    counts = [run.scenarios["probe"].requests["probe"].count for run in (first, second, third)]
    assert both.requests["probe"].count == sum(counts)

    tight = perf.assess(first, budgets(tmp_path, BUDGETS.format(p50=4)), baseline)
    assert any(
        f.startswith("probe/probe: p50 = ") and "breaks the budget of 4.0 ms" in f
        for f in tight.failures
    )
    assert tight.comparisons["probe/probe"].regressed is False
    memory = [v for v in tight.verdicts if v.budget.metric == "max_memory_per_request_kb"]
    assert [v.budget.name for v in memory] == ["slow"]  # quick only serves the calibration
    assert memory[0].ok, memory[0].text  # held, or not measured: a notice, never a failure

    loose = perf.assess(slower, budgets(tmp_path, BUDGETS.format(p50=1000)), baseline)
    comparison = loose.comparisons["probe/probe"]
    assert comparison.regressed, comparison.text
    assert comparison.text.startswith("slower by ") and "(significant" in comparison.text
    assert "relative to the calibration endpoint under the same load (this run:" in comparison.text
    # against a baseline from before the calibration under load, the lone calibrations
    lone = replace(baseline, scenarios={"probe": replace(both, loaded_calibration_p50_ms=[])})
    older = perf.assess(slower, [], lone).comparisons["probe/probe"]
    assert older.regressed and "relative to the calibration endpoint (this run:" in older.text
    assert f"probe/probe: {comparison.text}" in loose.failures
    # the same slowdown against a baseline whose database lived elsewhere: a notice
    assert first.machine["database_storage"] in {"memory", "disk"}
    moved = {**baseline.machine, "database_storage": "server"}
    elsewhere = perf.assess(slower, [], replace(baseline, machine=moved))
    comparison = elsewhere.comparisons["probe/probe"]
    assert not comparison.regressed and comparison.inconclusive
    assert f"(database_storage server then, {first.machine['database_storage']} now)" in (
        comparison.text
    )
    assert f"probe/probe: {comparison.text}" in elsewhere.notices
    # a figure read in power-of-two buckets is judged by its budgets, never the baseline
    probe_bucketed = replace(slower.scenarios["probe"], bucketed=["probe"])
    bucketed = replace(slower, scenarios={"probe": probe_bucketed})
    judged = perf.assess(bucketed, budgets(tmp_path, BUDGETS.format(p50=1000)), baseline)
    assert judged.comparisons == {}
    assert "probe/probe: p50" in [verdict.budget.id for verdict in judged.verdicts]


def test_a_slowdown_the_perf_tests_find_is_measured_again_before_it_fails(run_at, measure_at):
    baseline = pooled([measure_at(5), measure_at(5), measure_at(5)])
    lines: list[str] = []

    results, assessment = perf.measure_and_assess(
        plan(), run_at(200), ["probe"], [], baseline, lines.append
    )

    assert "probe: slower than the baseline; measuring again to confirm" in lines
    assert sum(line.startswith("running probe:") for line in lines) == 2
    comparison = assessment.comparisons["probe/probe"]
    assert comparison.regressed, comparison.text
    assert "; measured again: slower by " in comparison.text
    assert f"probe/probe: {comparison.text}" in assessment.failures
    assert results.scenarios["probe"].requests["probe"].percentiles_ms["p50"] >= 200


def test_reports_hold_the_figures_and_the_json_reads_back(measure_at, tmp_path):
    results = measure_at(5)
    assessment = perf.assess(results, budgets(tmp_path, BUDGETS.format(p50=60_000)), results)

    paths = perf_report.write(results, assessment, tmp_path / "reports")

    assert [p.name for p in paths] == [
        "sqlite.json",
        "sqlite.md",
        "sqlite.html",
        "sqlite.outcome.json",
    ]
    assert PerfResults.load(paths[0]) == results
    assert PerfOutcome.load(paths[3]) == PerfOutcome("sqlite", [])
    summary = paths[1].read_text()
    assert "**All budgets met.**" in summary
    p50 = results.scenarios["probe"].requests["probe"].percentiles_ms["p50"]
    assert f"| probe | {p50:.1f} ms |" in summary and "no significant change" in summary
    page = paths[2].read_text()
    assert "<script" not in page and page.count("<svg") == 2  # over time, by percentile
    # memory per request may be "not measured" on a busy machine: a notice, not a breach
    assert re.search(r"[34] of 4 budgets held; 0 broke; [01] could not be judged", page)
    assert "1 of 1 requests regressed" not in page and "0 of 1 requests regressed" in page
    assert f"<td>probe</td><td>{p50:.1f}</td>" in page and "p50 60000" in page


def test_results_that_are_not_perf_results_are_a_clear_error(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"format": 99, "scenarios": {}}))

    with pytest.raises(ConfigError, match="not perf results harness can read: not format 3"):
        PerfResults.load(path)


def test_without_a_file_every_request_and_service_has_the_built_in_budgets(tmp_path):
    found = load_budgets(tmp_path / "none.toml", plan(), {"slow", "quick"}, "sqlite")

    assert sorted(b.id for b in found) == [
        "probe/probe: max_error_rate",
        "probe/slow service: max_memory_per_request_kb",
    ]


def test_a_service_only_the_setup_calls_gets_no_service_budget(tmp_path):
    # the measured requests never reach `quick`: it would answer 0 requests while measured
    measured = plan()
    probe = measured.scenarios["probe"]
    measured.scenarios["probe"] = replace(probe, setup=(Step("quick", "POST", "/cases"),))

    found = load_budgets(tmp_path / "none.toml", measured, {"slow", "quick"}, "sqlite")

    assert [b.id for b in found if b.level == "services"] == [
        "probe/slow service: max_memory_per_request_kb"
    ]


def test_a_watched_server_gets_rss_and_cpu_budgets_but_none_per_request(tmp_path):
    watching = plan()
    watching.scenarios["probe"] = replace(watching.scenarios["probe"], watch=("cache",))
    path = tmp_path / "budgets.toml"
    path.write_text("[services.cache]\nmax_rss_mb = 50\n[services.default]\nmax_cpu_percent = 90\n")

    found = load_budgets(path, watching, {"slow", "quick", "cache"}, "sqlite")

    assert sorted(b.id for b in found if b.level == "services") == [
        "probe/cache service: max_cpu_percent",
        "probe/cache service: max_rss_mb",
        "probe/slow service: max_cpu_percent",
        "probe/slow service: max_memory_per_request_kb",
    ]


def test_a_watched_server_has_rss_and_cpu_figures_of_the_scenario(make_config):
    config = make_config(
        {"slow": {"command": delay_command(1), "health": "/"}},
        servers={"cache": redis_server()},
    )
    watching = plan(windows=3)
    watching.scenarios["probe"] = replace(watching.scenarios["probe"], watch=("cache",))
    watching = replace(
        watching,
        calibration=replace(
            watching.calibration,
            requests=(WeightedRequest("calibration", 1.0, Step("slow", "GET", "/")),),
        ),
    )
    stack = Stack(config, "perf-watch")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        cache = perf.measure(watching, state).scenarios["probe"].services["cache"]
    finally:
        stack.down()

    assert cache.peak_rss_mb > 1  # redis-server's own RSS, sampled while the load ran
    assert cache.memory_kib_per_request is None
    assert cache.memory_note.startswith("watched for RSS and CPU")


def test_database_budgets_only_hold_on_postgres(tmp_path):
    path = tmp_path / "budgets.toml"
    path.write_text("[database]\nmax_connections = 10\n")

    on_sqlite = load_budgets(path, plan(), {"slow"}, "sqlite")
    on_postgres = load_budgets(path, plan(), {"slow"}, "postgres")

    assert "probe/database: max_connections" not in [b.id for b in on_sqlite]
    assert "probe/database: max_connections" in [b.id for b in on_postgres]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[requests.prob]\np50 = 1", "requests.prob: no such request; did you mean 'probe'?"),
        ("[requests.probe]\np42 = 1", "requests.probe.p42: unknown key"),
        ("[requests.probe]\nmax_error_rate = 5", "a share from 0 to 1 (0.01 is 1%)"),
        (
            "[services.slow]\nmax_rss_mb = -1",
            "services.slow.max_rss_mb: must be a number, 0 or more",
        ),
        (
            "[scenario.probe]\nmin_throughput = 1",
            "scenario: unknown key; did you mean 'scenarios'?",
        ),
        ("[requests.probe]\np50 = [", "not valid TOML"),
    ],
)
def test_each_budgets_mistake_is_one_error_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        budgets(tmp_path, text)

    assert message in str(caught.value)
