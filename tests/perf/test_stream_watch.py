"""Stream subscribers held through a load run, against a real publish/subscribe service
(tests/fixtures/publisher.py under uvicorn): each message timed to every subscriber, a lost
or an extra message an error of the figure."""

from __future__ import annotations

import re

import pytest

from harness.perf._load_runner import LoadResult, LoadRunner
from harness.perf._scenarios import Phases, Scenario, Step, Subscribe, WeightedRequest
from harness.perf._stream_watch import StreamWatchError, _record, _Subscriber, _UserStream
from tests.conftest import Samples

SUBSCRIBERS = 5
TO_EACH, TO_ALL = Subscribe("publisher", "/", 1, "topic").figure_names


def _scenario(publish_path: str, path: str = "/topics/{topic}/events", **fields) -> Scenario:
    return Scenario(
        name="topic",
        model="closed",
        users=2,
        think_time=0.02,
        setup=(Step("publisher", "POST", "/topics", expect=201, capture={"topic": "topic"}),),
        requests=(WeightedRequest("publish", 1.0, Step("publisher", "POST", publish_path)),),
        phases=Phases(warmup=0.2, sustain=1.0),
        windows=2,
        subscribe=Subscribe("publisher", path, SUBSCRIBERS, "topic"),
        **fields,
    )


def _run(scenario: Scenario, urls: dict[str, str]) -> LoadResult:
    return LoadRunner(scenario, urls).run()


def test_every_message_is_timed_to_each_subscriber_and_to_the_last_of_them(publisher):
    result = _run(_scenario("/topics/{topic}/messages"), publisher)

    published = result.requests["publish"].count
    to_each, to_all = result.streams[TO_EACH], result.streams[TO_ALL]
    assert published > 0
    assert (to_each.count, to_each.errors) == (SUBSCRIBERS * published, 0)
    assert (to_all.count, to_all.errors) == (published, 0)
    assert result.throughput * result.measured_seconds == pytest.approx(published)  # requests only


def test_a_request_that_publishes_nothing_is_a_lost_message_of_every_subscriber(publisher):
    result = _run(_scenario("/topics/{topic}/messages?copies=0"), publisher)  # waits `timeout`

    published = result.requests["publish"].count
    to_each, to_all = result.streams[TO_EACH], result.streams[TO_ALL]
    assert (to_each.count, to_each.errors) == (0, SUBSCRIBERS * published)
    assert (to_all.count, to_all.errors) == (0, published)
    assert re.fullmatch(r"user \d: message \d+ never came", to_each.error_examples[0])


def test_a_request_that_publishes_twice_is_an_error_of_the_stream(publisher):
    result = _run(_scenario("/topics/{topic}/messages?copies=2"), publisher)

    # each user's second message answers its first request, before its second went out;
    # beyond the surplus (one error per subscriber, 2 users x 5)
    assert result.streams[TO_EACH].errors > 2 * SUBSCRIBERS
    assert "came before its request went out" in result.streams[TO_EACH].error_examples[0]


def test_a_stream_that_refuses_the_subscription_stops_the_run_naming_it(publisher):
    with pytest.raises(
        StreamWatchError, match=r"cannot subscribe to ws://127\.0\.0\.1:\d+/nowhere"
    ):
        _run(_scenario("/topics/{topic}/messages", path="/nowhere"), publisher)


def test_messages_pair_with_requests_in_order_and_a_surplus_is_named():
    on_time = _Subscriber(connection=None, received=[1.25, 2.5])  # type: ignore[arg-type]
    doubled = _Subscriber(connection=None, received=[1.25, 2.5, 2.75])  # type: ignore[arg-type]
    stream = _UserStream([on_time, doubled], published=[1.0, 2.0])
    to_each, to_all = Samples(), Samples()

    _record("user 0", stream, lambda sent: 0, to_each, to_all)

    assert to_each.times == [0.25, 0.25, 0.5, 0.5] and to_all.times == [0.25, 0.5]
    assert to_each.errors == ["user 0: 1 message(s) more than its 2 requests"]
