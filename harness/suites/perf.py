"""Performance of the stack: budgets, the baseline, the generator's health.

The scenarios (scenarios.toml) run once per session against the running stack; every
test below reads their figures. Reports: reports/perf/<db>.{json,md,html}.
"""

from __future__ import annotations

import warnings

from harness.perf._budgets import PerfNotice


def test_load_generator_was_not_the_limit(perf_scenario_result, record_property):
    record_property("throughput_rps", round(perf_scenario_result.throughput, 1))
    record_property("runner_cpu_percent", round(perf_scenario_result.runner_cpu_percent, 1))
    record_property("calibration_p50_ms", perf_scenario_result.calibration_p50_ms)
    assert not perf_scenario_result.invalid_reasons, "; ".join(perf_scenario_result.invalid_reasons)
    failing = {
        name: request.error_examples
        for name, request in perf_scenario_result.requests.items()
        if request.count == 0
    }
    assert not failing, f"requests with no successful answer: {failing}"


def test_within_budget(perf_verdict, record_property):
    record_property("figure", perf_verdict.figure)
    record_property("budget", perf_verdict.budget.limit)
    record_property("unit", perf_verdict.budget.unit)
    record_property("status", perf_verdict.status)
    if perf_verdict.notice:
        warnings.warn(PerfNotice(perf_verdict.text), stacklevel=1)
    assert perf_verdict.ok, perf_verdict.text


def test_no_significant_regression(perf_comparison, record_property):
    record_property("change", round(perf_comparison.change, 4))
    record_property("p_value", round(perf_comparison.p_value, 4))
    if perf_comparison.inconclusive:
        warnings.warn(PerfNotice(perf_comparison.text), stacklevel=1)
    assert not perf_comparison.regressed, perf_comparison.text


def test_degrades_gracefully_under_stress(perf_ramp_result, record_property):
    record_property("knee", perf_ramp_result.knee)
    record_property("summary", perf_ramp_result.text)
    levels = [*perf_ramp_result.levels, perf_ramp_result.recovery]
    server_errors = [error for level in levels for error in level.server_errors]
    assert not server_errors, f"500s under stress: {server_errors}"
    assert perf_ramp_result.recovered, perf_ramp_result.text
