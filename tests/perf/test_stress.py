"""Stress ramps: levels raised until a budget breaks, the knee below the capacity a delay
server can have on any machine, the recovery run; and the [stress] table's errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.config._project import parse_config
from harness.exceptions import ConfigError
from harness.perf import _stress as stress
from harness.perf._budgets import Budget
from harness.perf._scenarios import Phases, Ramp, Scenario, Step, WeightedRequest, load_plan
from harness.stack._stack import Stack
from tests.conftest import delay_command

P95 = Budget("requests", "reads", "probe", "p95", 100.0, "ms")


def reads() -> Scenario:
    return Scenario(
        name="reads",
        model="open",
        users=4,
        rate=20,
        requests=(WeightedRequest("probe", 1.0, Step("slow", "GET", "/")),),
        phases=Phases(),
    )


def test_the_knee_is_below_the_capacity_of_four_users_at_20_ms(make_config):
    # 4 in flight at 20 ms each serve at most 200 req/s on any machine: at 400 req/s the
    # queue grows by 200 a second, so p95 breaks 100 ms however fast the machine is
    config = make_config({"slow": {"command": delay_command(20), "health": "/"}})
    stack = Stack(config, "stress")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        urls = {"slow": state.services["slow"].url}
        result = stress.run_ramp(
            Ramp("ramp", "reads", (20, 40, 400), step=1.0), reads(), urls, [P95]
        )
    finally:
        stack.down()

    assert [level.level for level in result.levels] == [20, 40, 400]
    assert result.levels[-1].breaches and result.levels[-1].breaches[0].startswith("probe p95 ")
    assert result.knee is None or result.knee <= 40
    assert result.recovery.level == 20
    assert result.text.startswith("ramp: ") and "at 20 req/s" in result.text
    assert not any(level.server_errors for level in result.levels)


def test_a_service_that_stays_slow_after_the_ramp_did_not_recover_however_often_measured(
    make_config,
):
    # an open model sends a fixed count: about 78 requests at the first level (enough to
    # judge a p50 by, `MIN_RECOVERY_ANSWERS`), 156 at the second; from the 100th on the
    # server answers after 200 ms for good, 1 ms before; 24 users keep 60 req/s in flight
    slow_for_good = delay_command(1, "--slow-after", "100", "--slow-ms", "200")
    config = make_config({"slow": {"command": slow_for_good, "health": "/"}})
    stack = Stack(config, "stress")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        urls = {"slow": state.services["slow"].url}
        ramp = Ramp("ramp", "reads", (60, 120), step=1.0)
        result = stress.run_ramp(ramp, replace(reads(), rate=60, users=24), urls, [P95])
    finally:
        stack.down()

    assert result.recovery.percentiles_ms["probe"]["p50"] >= 200
    assert not result.recovered and result.recovery_attempts == stress.RECOVERY_ATTEMPTS
    assert "did NOT recover (measured 3 times) at 60 req/s: probe p50 " in result.text


def test_a_recovery_is_judged_against_the_first_level_by_errors_and_p50():
    first = stress.Level(10, {"probe": {"p50": 10.0}}, {"probe": 0.0})
    same = stress.Level(10, {"probe": {"p50": 19.0}}, {"probe": 0.005})
    slower = stress.Level(10, {"probe": {"p50": 21.0}}, {"probe": 0.0})
    failing = stress.Level(10, {"probe": {"p50": 10.0}}, {"probe": 0.05})

    assert stress.has_recovered(first, same)
    assert not stress.has_recovered(first, slower)
    assert not stress.has_recovered(first, failing)


def test_a_p50_of_too_few_answers_is_not_judged_but_their_errors_are():
    def level(p50: float, answers: int, errors: float = 0.0) -> stress.Level:
        return stress.Level(10, {"rare": {"p50": p50}}, {"rare": errors}, answers={"rare": answers})

    enough, few = stress.MIN_RECOVERY_ANSWERS, stress.MIN_RECOVERY_ANSWERS - 1

    assert not stress.has_recovered(level(2.0, enough), level(6.5, enough))
    assert stress.has_recovered(level(2.0, few), level(6.5, enough))
    assert stress.has_recovered(level(2.0, enough), level(6.5, few))
    assert not stress.has_recovered(level(2.0, few), level(2.0, few, errors=0.5))


def test_a_busier_machine_stretches_the_recovery_allowance_by_its_run_queue_wait():
    # two busy loops sharing the cores: the run's threads wait about 2 s per second they run
    first = stress.Level(10, {"probe": {"p50": 10.0}}, {"probe": 0.0}, wait_ratio=0.2)
    slower_on_a_busier_machine = stress.Level(
        10, {"probe": {"p50": 50.0}}, {"probe": 0.0}, wait_ratio=2.0
    )
    slower_on_the_same_machine = stress.Level(
        10, {"probe": {"p50": 25.0}}, {"probe": 0.0}, wait_ratio=0.2
    )
    far_slower_on_a_busier_machine = stress.Level(
        10, {"probe": {"p50": 60.0}}, {"probe": 0.0}, wait_ratio=2.0
    )

    assert stress.machine_stretch(first, slower_on_a_busier_machine) == pytest.approx(3 / 1.2)
    assert stress.has_recovered(first, slower_on_a_busier_machine)  # 50 <= 2 x 10 x 2.5
    assert not stress.has_recovered(first, slower_on_the_same_machine)
    assert not stress.has_recovered(first, far_slower_on_a_busier_machine)
    # a quieter machine afterwards never tightens the allowance
    assert stress.machine_stretch(slower_on_a_busier_machine, first) == 1.0


def test_answers_grown_larger_stretch_that_requests_allowance_and_no_other():
    # a listing of every row after the ramp created rows: three times the bytes to send
    def level(listing_p50, listing_bytes, lookup_p50):
        return stress.Level(
            10,
            {"listing": {"p50": listing_p50}, "lookup": {"p50": lookup_p50}},
            {"listing": 0.0, "lookup": 0.0},
            response_bytes={"listing": listing_bytes, "lookup": 100.0},
        )

    first = level(10.0, 2_000.0, 10.0)
    listing_grew = level(50.0, 6_000.0, 10.0)

    assert stress.size_stretch(first, listing_grew, "listing") == 3.0
    assert stress.has_recovered(first, listing_grew)  # 50 <= 2 x 10 x 3
    assert not stress.has_recovered(first, level(70.0, 6_000.0, 10.0))
    # the lookup's answers did not grow: its allowance stays twice its p50
    assert stress.recovery_shortfalls(first, level(10.0, 2_000.0, 25.0)) == [
        "lookup p50 25 ms > 2.0 x 10 ms"
    ]
    # smaller answers never tighten the allowance; a level without sizes stretches nothing
    assert stress.size_stretch(listing_grew, first, "listing") == 1.0
    assert stress.size_stretch(stress.Level(10, {}, {}), listing_grew, "listing") == 1.0


def test_a_level_that_broke_nothing_has_no_breaches_and_the_first_breach_ends_the_knee():
    held = stress.Level(10, {"probe": {"p50": 1, "p95": 2}}, {"probe": 0.0})
    broke = stress.Level(20, {"probe": {"p50": 1, "p95": 200}}, {"probe": 0.0}, ["probe p95"])
    again = stress.Level(30, {"probe": {"p50": 1, "p95": 2}}, {"probe": 0.0})

    assert stress._until_breach([held, broke, again]) == [held]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'scenario = "reeds"\nlevels = [1, 2]',
            "stress.r.scenario: no scenario 'reeds'; did you mean",
        ),
        (
            'scenario = "reads"\nlevels = [2, 1]',
            "stress.r.levels: must be at least two rising positive",
        ),
        (
            'scenario = "reads"\nlevels = [5]',
            "stress.r.levels: must be at least two rising positive",
        ),
        ('scenario = "reads"\nlevels = [1, 2]\nsteps = 3', "stress.r.steps: unknown key; did you"),
        (
            'scenario = "drafting"\nlevels = [1.5, 2]',
            "a closed scenario's levels are numbers of users",
        ),
    ],
)
def test_each_stress_mistake_is_one_error_naming_the_key(tmp_path, table, message):
    (tmp_path / "perf").mkdir()
    (tmp_path / "perf/scenarios.toml").write_text(
        '[scenarios.reads]\nmodel = "open"\nrate = 10\n[[scenarios.reads.requests]]\n'
        'name = "probe"\nservice = "slow"\npath = "/"\n'
        "[scenarios.drafting]\n[[scenarios.drafting.requests]]\n"
        'name = "probe"\nservice = "slow"\npath = "/"\n'
        f"[stress.r]\n{table}\n"
    )
    config = parse_config({"services": {"slow": {"command": delay_command(1)}}}, root=tmp_path)

    with pytest.raises(ConfigError) as caught:
        load_plan(config)

    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_level_whose_users_cannot_be_set_up_broke_every_budget_and_the_ramp_goes_on():
    # nothing listens on port 9: every user's setup fails, which is the ramp's outcome
    gone = replace(reads(), setup=(Step("slow", "POST", "/cases", json={}, expect=201),))
    ramp = Ramp("ramp", "reads", (1, 2), step=0.1)

    result = stress.run_ramp(ramp, gone, {"slow": "http://127.0.0.1:9"}, [P95])

    assert [level.level for level in result.levels] == [1, 2]
    assert all(
        level.breaches[0].startswith("setup failed: scenario 'reads'") for level in result.levels
    )
    assert result.knee is None and not result.recovered
    assert result.text.startswith("ramp: no level held; at 1 req/s: setup failed")
