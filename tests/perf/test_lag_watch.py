"""A change's way from accepted to applied, read from the timestamps a real service wrote
(tests/fixtures/publisher.py's jobs under uvicorn): every item timed, a lost one an error."""

from __future__ import annotations

import pytest

from harness.perf import _latency as latency
from harness.perf._lag_watch import LagWatch
from harness.perf._load_runner import LoadRunner
from harness.perf._scenarios import Lag, Phases, Scenario, Step, WeightedRequest
from tests.conftest import Samples

LAG = Lag("publisher", "/topics/{topic}/jobs", "received_at", "applied_at", "accepted to applied")


def _scenario(path: str, timeout: float = 10.0) -> Scenario:
    return Scenario(
        name="jobs",
        model="closed",
        users=2,
        think_time=0.02,
        setup=(Step("publisher", "POST", "/topics", expect=201, capture={"topic": "topic"}),),
        requests=(WeightedRequest("accept", 1.0, Step("publisher", "POST", path, expect=202)),),
        phases=Phases(warmup=0.2, sustain=1.0),
        windows=2,
        timeout=timeout,
        lag=LAG,
    )


def test_each_change_is_timed_from_accepted_to_applied_by_the_services_own_clock(publisher):
    result = LoadRunner(_scenario("/topics/{topic}/jobs?after_ms=30"), publisher).run()

    figure = result.streams["accepted to applied"]
    accepted = result.requests["accept"].count
    assert accepted > 0 and figure.errors == 0
    # each job accepted while measuring, give or take the ones at the span's edges
    assert abs(figure.count - accepted) <= 2 * 2
    # applied 30 ms after it was accepted, by the service's own timer: never sooner
    assert latency.percentile_ms(figure.histogram, "p50") >= 30
    assert figure.histogram.get_min_value() >= 29_000  # µs, the timer's own rounding aside


def test_a_change_that_never_appears_is_an_error_of_the_figure(publisher):
    lost = _scenario("/topics/{topic}/jobs?lose=1", timeout=2.0)  # how long it waits for them
    result = LoadRunner(lost, publisher).run()

    figure = result.streams["accepted to applied"]
    assert figure.count == 0 and figure.errors > result.requests["accept"].count
    assert "items never appeared" in figure.error_examples[0]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"received_at": "2026-12-06T10:00:00+00:00"}, "an item has no timestamp 'applied_at'"),
        (
            {"received_at": "2026-12-06T10:00:00", "applied_at": "2026-12-06T10:00:01"},
            "received_at '2026-12-06T10:00:00' has no time zone",
        ),
        ({"received_at": "yesterday", "applied_at": "today"}, "Invalid isoformat string"),
    ],
)
def test_an_item_without_two_placed_timestamps_is_an_error_naming_it(item, message):
    figure = Samples()

    LagWatch(LAG, timeout=1.0)._record("http://x/topics/1/jobs", item, lambda at: 0, figure)

    assert figure.times == [] and message in figure.errors[0]
