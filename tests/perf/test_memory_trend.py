"""Leaks by trend: a real server keeping 37 KiB per request fails its budget, the same
server without the leak holds it, and one allocator step is not read as a leak."""

from __future__ import annotations

import pytest

from harness.exceptions import ConfigError
from harness.perf import _assessment as perf
from harness.perf import _memory_trend as memory_trend
from harness.perf._budgets import load_budgets
from harness.perf._scenarios import PerfPlan, Phases, Scenario, Step, WeightedRequest
from harness.stack._stack import Stack
from tests.conftest import delay_command

KIB = 1024
MIB = 1024 * KIB


def plan() -> PerfPlan:
    """Two users hitting `target` as fast as it answers, in six windows after warm-up."""
    load = Scenario(
        name="load",
        model="closed",
        users=2,
        requests=(WeightedRequest("probe", 1.0, Step("target", "GET", "/")),),
        phases=Phases(warmup=0.5, sustain=3.0),
        windows=6,
    )
    calibration = Scenario(
        name="calibration",
        model="closed",
        users=1,
        requests=(WeightedRequest("calibration", 1.0, Step("target", "GET", "/")),),
        phases=Phases(warmup=0.1, sustain=0.3),
        windows=3,
    )
    return PerfPlan(calibration, {"load": load})


def memory_verdict(make_config, tmp_path, *extra: str):
    config = make_config({"target": {"command": delay_command(0, *extra), "health": "/"}})
    stack = Stack(config, "memory")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        results = perf.measure(plan(), state)
    finally:
        stack.down()
    budgets = load_budgets(tmp_path / "none.toml", plan(), {"target"}, "sqlite")
    assessment = perf.assess(results, budgets, None)
    return next(v for v in assessment.verdicts if v.budget.metric == "max_memory_per_request_kb")


def test_a_steady_leak_of_37_kib_per_request_breaks_the_budget(make_config, tmp_path):
    verdict = memory_verdict(make_config, tmp_path, "--leak-kb", "37")

    assert verdict.status == "broke", verdict.text
    assert verdict.figure == pytest.approx(37, rel=0.25)
    assert not verdict.ok and "breaks the budget of 8.00 KiB/request" in verdict.text


def test_the_same_server_without_the_leak_holds_the_budget(make_config, tmp_path):
    verdict = memory_verdict(make_config, tmp_path)

    assert verdict.status == "held", verdict.text
    assert verdict.figure is not None and verdict.figure < 2


def test_one_allocator_step_between_windows_is_not_a_leak():
    bounds = [float(k) for k in range(7)]
    served = [k / 200 for k in range(1, 1201)]  # 200 requests a second for 6 s
    rss = [(k / 10, 100 * MIB + (8 * MIB if k > 31 else 0)) for k in range(65)]

    trend = memory_trend.fit(rss, served, bounds)

    assert trend.kib_per_request == 0 and trend.requests == 1200


def test_a_steady_slope_is_read_as_bytes_per_request():
    bounds = [float(k) for k in range(7)]
    served = [k / 200 for k in range(1, 1201)]
    rss = [(k / 10, 100 * MIB + 20 * k * 37 * KIB) for k in range(65)]  # 20 requests a sample

    trend = memory_trend.fit(rss, served, bounds)

    assert trend.kib_per_request == pytest.approx(37, rel=0.02)


def test_a_sampler_that_stalled_still_reads_the_slope_at_the_moments_it_read():
    # a busy machine held the sampling thread from 1.05 s to 4.9 s: three window bounds
    # fall in the gap, and the RSS read after it is not the RSS at those bounds
    bounds = [float(k) for k in range(7)]
    served = [k / 200 for k in range(1, 1201)]
    moments = [k / 10 for k in range(65) if not 1.05 < k / 10 < 4.9]
    rss = [(at, 100 * MIB + round(200 * at) * 37 * KIB) for at in moments]

    trend = memory_trend.fit(rss, served, bounds)

    assert trend.kib_per_request == pytest.approx(37, rel=0.02)


def test_too_few_requests_is_no_figure_and_says_what_gives_one():
    bounds = [float(k) for k in range(7)]
    rss = [(k / 10, 100 * MIB + k * MIB) for k in range(65)]

    trend = memory_trend.fit(rss, [k / 10 for k in range(1, 60)], bounds)

    assert trend.kib_per_request is None and trend.requests == 59
    assert "answered 59 requests while measured, 300 are needed" in trend.reason
    assert "a longer sustain phase" in trend.reason


def test_a_figure_that_could_not_be_taken_is_a_notice_not_a_failure(tmp_path):
    budget = load_budgets(tmp_path / "none.toml", plan(), {"target"}, "sqlite")[-1]

    verdict = budget.judge(None, "the service answered 59 requests while measured")

    assert verdict.ok and verdict.notice and verdict.status == "not measured"
    assert verdict.text == (
        "load/target service: max_memory_per_request_kb: not measured (budget 8.00 "
        "KiB/request): the service answered 59 requests while measured"
    )


def test_the_replaced_growth_budget_is_an_error_naming_its_successor(tmp_path):
    path = tmp_path / "budgets.toml"
    path.write_text("[services.default]\nmax_memory_growth_mb = 50\n")

    with pytest.raises(ConfigError, match="max_memory_growth_mb: replaced by max_memory_per_req"):
        load_budgets(path, plan(), {"target"}, "sqlite")
