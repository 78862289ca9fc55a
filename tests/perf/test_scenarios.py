"""The scenarios file: what it declares, and a one-line error naming the key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.exceptions import ConfigError
from harness.perf._scenarios import load_plan
from tests.conftest import app_command, redis_server

MIX = """
[scenarios.mix]
model = "closed"
users = 3
think_time = 0.1
ramp_up = 1
sustain = 5
watch = ["cache", "alpha"]

[[scenarios.mix.setup]]
service = "alpha"
method = "POST"
path = "/cases"
expect = 201
capture = { case_id = "id" }

[[scenarios.mix.requests]]
name = "read"
weight = 80
service = "alpha"
path = "/cases/{case_id}"

[[scenarios.mix.requests]]
name = "write"
weight = 20
service = "alpha"
method = "post"
path = "/cases"
json = { name = "case {n} of {run}" }
expect = 201
# end

[scenarios.mix.subscribe]
service = "alpha"
path = "/cases/{case_id}/events"
subscribers = 50
name = "case events"

[scenarios.mix.lag]
service = "alpha"
path = "/cases/{case_id}/applied"
from = "received_at"
to = "applied_at"
name = "accepted to applied"
"""


@pytest.fixture
def plan_from(make_config, tmp_path: Path):
    config = make_config({"alpha": {"command": app_command()}}, servers={"cache": redis_server()})

    def load(text: str):
        path = tmp_path / "scenarios.toml"
        path.write_text(text)
        return load_plan(config, path)

    return load


def test_a_declared_mix_is_read_with_its_phases_weights_and_setup(plan_from):
    plan = plan_from(MIX)

    mix = plan.scenarios["mix"]
    assert (mix.model, mix.users, mix.think_time) == ("closed", 3, 0.1)
    assert (mix.phases.ramp_up, mix.phases.warmup, mix.phases.sustain) == (1.0, 1.0, 5.0)
    assert [(r.name, r.weight, r.step.method) for r in mix.requests] == [
        ("read", 80.0, "GET"),
        ("write", 20.0, "POST"),
    ]
    assert mix.setup[0].capture == {"case_id": "id"}
    assert mix.watch == ("cache", "alpha")
    assert mix.watched == {"cache"}  # alpha's requests measure it already
    assert mix.redis == ("cache",)
    assert mix.subscribe is not None
    assert (mix.subscribe.path, mix.subscribe.subscribers) == ("/cases/{case_id}/events", 50)
    assert mix.figure_names == [  # what budgets may name
        "read",
        "write",
        "case events: publish to receive",
        "case events: fan-out",
        "accepted to applied",
        "cache: command time",  # a watched Redis server's own time per command
    ]
    assert mix.compared_names == mix.figure_names[:-1]  # a baseline judges all but buckets
    assert mix.lag is not None
    assert (mix.lag.path, mix.lag.start, mix.lag.end) == (
        "/cases/{case_id}/applied",
        "received_at",
        "applied_at",
    )
    # calibration defaults to the first service's health endpoint
    assert plan.calibration.requests[0].step.path == "/health"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('model = "closed"', 'model = "closd"'),
            "scenarios.mix.model: must be 'closed' or 'open'",
        ),
        (
            ('model = "closed"', 'model = "open"'),
            "scenarios.mix.rate: an open-model scenario needs a rate",
        ),
        (
            ("users = 3", "users = 3\nrate = 5"),
            "scenarios.mix.rate: only an open-model scenario has a rate",
        ),
        (
            ("think_time = 0.1", "thinktime = 0.1"),
            "scenarios.mix.thinktime: unknown key; did you mean 'think_time'?",
        ),
        (
            ('path = "/cases/{case_id}"', 'path = "/cases/{case}"'),
            "unknown placeholder {case}; did you mean 'case_id'?",
        ),
        (
            ('service = "alpha"\npath = "/cases/{', 'service = "beta"\npath = "/cases/{'),
            "requests[0].service: unknown service 'beta'",
        ),
        (('name = "write"', 'name = "read"'), "two requests share a name"),
        (("weight = 20", "weight = -1"), "requests[1].weight: must be a positive number of shares"),
        (
            ("expect = 201\n# end", "expect = 2010\n# end"),
            "requests[1].expect: must be an HTTP status",
        ),
        (
            ('path = "/cases"\njson', 'path = "cases"\njson'),
            "requests[1].path: must start with '/'",
        ),
        (
            ('json = { name = "case {n} of {run}" }', 'json = { name = "case {n" }'),
            "write '{{' for a literal brace",
        ),
        (
            ("/cases/{case_id}/events", "/cases/{case}/events"),
            "subscribe.path: unknown placeholder {case}; did you mean 'case_id'?",
        ),
        (
            ("/cases/{case_id}/events", "cases/events"),
            "subscribe.path: must be the stream's path, starting with '/'",
        ),
        (
            (
                'service = "alpha"\npath = "/cases/{case_id}/e',
                'service = "beta"\npath = "/cases/{case_id}/e',
            ),
            "subscribe.service: unknown service 'beta'",
        ),
        (
            ("subscribers = 50", "subscribers = 0"),
            "subscribe.subscribers: must be a whole number of at least 1",
        ),
        (
            ("subscribers = 50", "subscriber = 50"),
            "subscribe.subscriber: unknown key; did you mean 'subscribers'?",
        ),
        (('name = "case events"', "name = 7"), "subscribe.name: must be a string"),
        (
            ("/cases/{case_id}/applied", "/cases/{case}/applied"),
            "lag.path: unknown placeholder {case}; did you mean 'case_id'?",
        ),
        (('from = "received_at"\n', ""), "scenarios.mix.lag.from: missing"),
        (
            ('name = "accepted to applied"', 'name = "read"'),
            "scenarios.mix.lag.name: 'read' names another figure too",
        ),
        (('to = "applied_at"', 'until = "applied_at"'), "lag.until: unknown key"),
        (
            ('watch = ["cache", "alpha"]', 'watch = ["cahce"]'),
            "scenarios.mix.watch: no service or server 'cahce'; did you mean 'cache'?",
        ),
        (
            ('watch = ["cache", "alpha"]', 'watch = "cache"'),
            "scenarios.mix.watch: must be a list of service or server names",
        ),
    ],
)
def test_each_mistake_is_one_error_naming_the_key(plan_from, change, message):
    old, new = change
    assert old in MIX, old

    with pytest.raises(ConfigError) as caught:
        plan_from(MIX.replace(old, new, 1))

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_request_may_not_capture_what_setup_did_not(plan_from):
    text = MIX.replace(
        'json = { name = "case {n} of {run}" }',
        'json = { name = "case {n}" }\ncapture = { other = "id" }',
    )

    with pytest.raises(ConfigError, match=r"capture: \['other'\] not set by setup"):
        plan_from(text)


def test_no_scenario_and_a_missing_file_are_errors(plan_from, make_config, tmp_path):
    with pytest.raises(ConfigError, match=r"no \[scenarios.<name>\] table"):
        plan_from("[calibration]\n")
    config = make_config({"alpha": {"command": app_command()}})
    with pytest.raises(ConfigError, match=r"scenarios\.toml: not found"):
        load_plan(config, tmp_path / "missing" / "scenarios.toml")


def test_selecting_an_unknown_scenario_names_the_known_ones(plan_from):
    with pytest.raises(ConfigError, match=r"no scenario \['nope'\]; the scenarios are \['mix'\]"):
        plan_from(MIX).select(["nope"])
