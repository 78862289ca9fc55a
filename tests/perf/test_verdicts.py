"""Verdicts aware of the machine: a breach on a quiet machine fails, one a busy machine
can explain is inconclusive and measured again, one beyond what it can explain fails;
and the machine's load is read from the kernel (two busy loops make it busy)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from harness.perf import _machine as machine
from harness.perf import _verdicts as verdicts
from harness.perf._budgets import Budget
from harness.perf._latency import PERCENTILES
from harness.perf._regression import Runs, compare_runs
from harness.perf._results import RequestResult, ScenarioResult, ServiceUse

P95 = Budget("requests", "drafting", "case creation", "p95", 150.0, "ms")


def result(p95: float, calibration: float, others: float, wait: float) -> ScenarioResult:
    request = RequestResult(
        count=100,
        errors=0,
        error_rate=0.0,
        throughput=10.0,
        percentiles_ms={name: p95 for name in PERCENTILES},
        max_ms=p95,
        window_p50_ms=[p95],
        run_p50_ms=[p95],
        histogram="",
    )
    return ScenarioResult(
        name="drafting",
        model="closed",
        measured_seconds=10.0,
        throughput=10.0,
        runner_cpu_percent=5.0,
        run_calibration_p50_ms=[calibration],
        calibration_after_p50_ms=[calibration],
        requests={"case creation": request},
        services={},
        others_share=[others],
        wait_ratio=[wait],
    )


QUIET = result(200.0, calibration=0.6, others=0.02, wait=0.05)
BUSY = result(200.0, calibration=20.0, others=0.6, wait=2.0)


def test_a_breach_on_a_quiet_machine_fails():
    [verdict] = verdicts.judge_result(QUIET, [P95], quiet_ms=0.6)

    assert verdict.status == "broke" and not verdict.ok


def test_a_breach_a_busy_machine_can_explain_is_inconclusive_and_names_the_figures():
    [verdict] = verdicts.judge_result(BUSY, [P95], quiet_ms=0.6)

    assert verdict.status == "inconclusive" and verdict.ok and verdict.notice
    assert verdict.text == (
        "drafting/case creation: p95 = 200.0 ms over the budget of 150.0 ms: inconclusive, "
        "the machine was too busy to judge (calibration p50 20.00 ms against a quiet 0.60 "
        "ms; others used 60% of the CPUs and the run's processes waited 2.00 s for a CPU "
        "per second they ran)"
    )


def test_a_breach_beyond_what_the_busy_machine_took_fails():
    # 20 ms of calibration excess, stretched 3 times, explains 58 ms: not 400 ms over
    slow = replace(
        BUSY,
        requests={
            "case creation": replace(
                BUSY.requests["case creation"], percentiles_ms=dict.fromkeys(PERCENTILES, 550.0)
            )
        },
    )

    [verdict] = verdicts.judge_result(slow, [P95], quiet_ms=0.6)

    assert verdict.status == "broke"


def test_a_scenario_waiting_on_its_own_load_as_in_its_baseline_is_judged_as_quiet():
    # drafting keeps the CPUs busy by itself: its processes wait about 0.5 s per CPU
    # second with nothing else running; a breach there fails, whatever the figure
    throughput = Budget("scenarios", "drafting", "drafting", "min_throughput", 100.0, "req/s")
    own_load = result(200.0, calibration=0.6, others=0.02, wait=0.55)

    [unknown] = verdicts.judge_result(own_load, [throughput], quiet_ms=0.6)
    [judged] = verdicts.judge_result(own_load, [throughput], quiet_ms=0.6, quiet_wait=0.5)

    assert unknown.status == "inconclusive"  # no baseline: 0.55 could be a neighbour's
    assert judged.status == "broke" and not judged.ok


def test_memory_kept_per_request_breaks_its_budget_however_busy_the_machine():
    leak = Budget("services", "drafting", "records", "max_memory_per_request_kb", 8.0, "KiB")
    leaking = replace(BUSY, services={"records": ServiceUse(90.0, 40.0, 36.6, 2_000)})

    [verdict] = verdicts.judge_result(leaking, [leak], quiet_ms=0.6)

    assert verdict.status == "broke" and not verdict.ok


def test_an_inconclusive_breach_is_measured_again_until_a_quiet_attempt_judges_it():
    attempts = iter([BUSY, QUIET])
    said: list[str] = []

    judged = verdicts.judge(lambda: next(attempts), [P95], [], progress=said.append)

    assert judged.attempts == 2 and judged.verdicts[0].status == "broke"
    assert said == ["drafting: a breach while the machine was busy; measuring again"]


def test_a_machine_busy_at_every_attempt_stays_inconclusive_after_three():
    judged = verdicts.judge(lambda: BUSY, [P95], [0.6])

    assert judged.attempts == verdicts.ATTEMPTS == 3
    assert judged.verdicts[0].status == "inconclusive"


def test_busy_loops_make_the_machine_busy():
    # one loop per CPU (two here): others' share must pass the threshold on any machine
    count = max(2, os.cpu_count() or 2)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.3)  # let both start spinning
        first = machine.snapshot([])
        time.sleep(1.0)
        use = machine.between(first, machine.snapshot([]))
    finally:
        for loop in loops:
            loop.terminate()
            loop.wait()

    assert use.busy(), use.text
    assert use.others_share > machine.BUSY_OTHERS_SHARE


def runs_at(*p50s: float) -> Runs:
    return Runs(
        [p50 * (0.98 + i / 250) for p50 in p50s for i in range(6)], list(p50s), [1.0] * len(p50s)
    )


BASELINE = runs_at(10.0, 10.5, 11.0)


def test_a_regression_on_a_busy_machine_within_its_stretch_is_inconclusive():
    current = runs_at(16.0)  # +45% over the slowest run, but the machine stretched it x3
    comparison = verdicts.judge_comparison(compare_runs(current, BASELINE), current, BASELINE, BUSY)

    assert not comparison.regressed and comparison.inconclusive
    assert "inconclusive: the machine was busy" in comparison.text
    assert comparison.text.endswith("(x3.0) the run is -52% against the baseline's slowest run")


def test_a_sleep_far_beyond_the_busy_machines_stretch_is_still_a_regression():
    current = runs_at(160.0)
    comparison = verdicts.judge_comparison(compare_runs(current, BASELINE), current, BASELINE, BUSY)

    assert comparison.regressed and "inconclusive" not in comparison.text


def test_a_busy_run_against_a_baseline_as_busy_keeps_its_regression():
    # the baseline's own processes waited as long for a CPU: the machine explains nothing
    baseline = replace(BASELINE, waits=[2.0, 1.9, 2.0])
    current = runs_at(16.0)
    comparison = verdicts.judge_comparison(compare_runs(current, baseline), current, baseline, BUSY)

    assert comparison.regressed and not comparison.inconclusive
    assert "this run: others used 60% of the CPUs and the run's processes waited 2.00 s" in (
        comparison.text
    )
    assert comparison.text.endswith(
        "the baseline's 3 runs: calibration 1.00-1.00 ms, waited 1.90-2.00)"
    )


def test_a_regression_on_a_quiet_machine_stands():
    current = runs_at(16.0)
    comparison = verdicts.judge_comparison(
        compare_runs(current, BASELINE), current, BASELINE, QUIET
    )

    assert comparison.regressed


def test_a_regression_measured_again_stands_only_if_it_regresses_again():
    regressed = compare_runs(runs_at(16.0), BASELINE)
    chance = compare_runs(runs_at(13.6), BASELINE)  # +24%, once
    within = compare_runs(runs_at(12.0), BASELINE)
    first = {"a/x": regressed, "b/y": chance, "b/z": within}
    again = {"a/x": compare_runs(runs_at(15.0), BASELINE), "b/y": within, "b/z": within}
    assert regressed.regressed and chance.regressed and not within.regressed

    confirmed = verdicts.confirm(first, again)

    assert set(confirmed) == {"a/x", "b/y"}  # only regressions are judged again
    assert confirmed["a/x"].regressed and not confirmed["a/x"].inconclusive
    assert confirmed["a/x"].text == f"{regressed.text}; measured again: {again['a/x'].text}"
    assert not confirmed["b/y"].regressed and confirmed["b/y"].inconclusive
    assert confirmed["b/y"].text == f"{chance.text}; not confirmed, measured again: {within.text}"


def test_processes_that_come_and_go_count_from_when_they_were_there():
    # a backend that exited since the first snapshot is not a negative figure; one that
    # started since counts from 0
    first = machine.Snapshot(busy=10.0, total=40.0, ours={1: (5.0, 1.0), 2: (3.0, 3.0)})
    last = machine.Snapshot(busy=14.0, total=48.0, ours={1: (6.0, 1.5), 3: (1.0, 0.5)})

    use = machine.between(first, last)

    assert use.wait_ratio == pytest.approx(1.0 / 2.0)
    assert use.others_share == pytest.approx(2.0 / 8.0)
