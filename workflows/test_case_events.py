"""Records' case events over WebSocket (services/records/events.py), every received message
checked against records' stream contract (contracts/asyncapi/records.json) by
`service_streams`. Each test makes its own case, so its events start at seq 1.

`HANG` is a deadline against a hang, never a measure: each wait ends on an event (a
message, a close) long before it on any machine, or the test is broken.
"""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.stack import Stack

HANG = 60.0
SUBSCRIBERS = 50
RECORDS_EVENT_QUEUE = 256  # records' default: events a subscriber may fall behind
BATCH = 1_000  # records' largest evidence batch
DESCRIPTION = 5_000  # characters: records' longest evidence description


def _events_of(case: dict[str, Any]) -> str:
    return f"/cases/{case['id']}/events"


def _evidence(case: dict[str, Any], count: int, description: str = "a signed lease") -> dict:
    return {"items": [{"case_id": case["id"], "description": description}] * count}


def _events_to_overflow() -> int:
    """Events enough to fill, twice over, every buffer between records and a stalled
    subscriber: the kernel's largest send buffer, uvicorn's 64 KiB write buffer, the
    subscriber's queue in records (each event a little over DESCRIPTION bytes)."""
    largest_send_buffer = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    return 2 * ((largest_send_buffer + 64 * 1024) // DESCRIPTION + RECORDS_EVENT_QUEUE)


def _seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [message["seq"] for message in messages]


def test_a_change_made_through_the_api_reaches_a_subscriber(records, service_streams, case):
    events = service_streams.subscribe("records", _events_of(case))

    draft = records.post("/drafts", json={"case_id": case["id"], "title": "Petition"}).json()
    records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Amended petition"})
    evidence = records.post("/evidence", json={"case_id": case["id"], "description": "A deed"})

    created, saved, added = (events.receive(HANG) for _ in range(3))
    assert (created["seq"], created["type"], created["case_id"]) == (1, "draft.created", case["id"])
    assert created["payload"] == {"draft_id": draft["id"], "version": 1, "title": "Petition"}
    assert (saved["seq"], saved["type"]) == (2, "draft.saved")
    assert saved["payload"] == {"draft_id": draft["id"], "version": 2, "title": "Amended petition"}
    assert (added["seq"], added["type"]) == (3, "evidence.added")
    assert added["payload"]["evidence_id"] == evidence.json()["id"]


def test_an_unknown_case_is_closed_with_its_code(service_streams):
    events = service_streams.subscribe("records", "/cases/2147483647/events")

    assert events.wait_closed(HANG) == (4404, "case 2147483647 not found")


def test_fifty_subscribers_each_receive_every_event_in_order(records, service_streams, case):
    subscribers = [
        service_streams.subscribe("records", _events_of(case)) for _ in range(SUBSCRIBERS)
    ]

    records.post("/evidence-batches", json=_evidence(case, 5))
    draft = records.post("/drafts", json={"case_id": case["id"], "title": "Motion"}).json()
    records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Motion to compel"})

    expected = [(seq, "evidence.added") for seq in range(1, 6)]
    expected += [(6, "draft.created"), (7, "draft.saved")]
    for subscriber in subscribers:
        received = [subscriber.receive(HANG) for _ in expected]
        assert [(event["seq"], event["type"]) for event in received] == expected


def test_a_stalled_subscriber_is_closed_and_holds_up_no_other(records, service_streams, case):
    stalled = service_streams.subscribe("records", _events_of(case), stalled=True)
    reading = service_streams.subscribe("records", _events_of(case))
    batches = -(-_events_to_overflow() // BATCH)
    text = "".join(random.Random(case["id"]).choices(string.ascii_letters, k=DESCRIPTION))

    for _ in range(batches):  # each answered while the stalled subscriber reads nothing
        assert (
            records.post("/evidence-batches", json=_evidence(case, BATCH, text)).status_code == 201
        )

    published = batches * BATCH
    assert _seqs([reading.receive(HANG) for _ in range(published)]) == list(range(1, published + 1))
    code, reason = stalled.wait_closed(HANG)  # it reads again: what it was sent, then the close
    assert (code, reason) == (
        4008,
        f"over {RECORDS_EVENT_QUEUE} events behind; resume with ?after=<last seq>",
    )
    sent = len(stalled.received)
    assert 0 < sent < published
    assert _seqs(stalled.received) == list(range(1, sent + 1))  # in order, none skipped


def test_a_subscriber_cut_off_by_the_network_resumes_after_its_last_seq_missing_nothing(
    records, service_streams, fault_proxy, case
):
    network = fault_proxy("records")
    first = service_streams.subscribe("records", _events_of(case), url=network.url)
    records.post("/evidence", json={"case_id": case["id"], "description": "A deed"})
    assert first.receive(HANG)["seq"] == 1

    assert network.drop_websockets() == 1  # two events happen while it is away
    assert first.wait_closed(HANG) == (None, "")  # no close frame: the connection just went
    records.post("/evidence-batches", json=_evidence(case, 2))
    resumed = service_streams.subscribe("records", _events_of(case), {"after": 1}, url=network.url)
    records.post("/evidence", json={"case_id": case["id"], "description": "A will"})

    assert _seqs([resumed.receive(HANG) for _ in range(3)]) == [2, 3, 4]  # 2, 3 replayed


def test_a_resume_beyond_the_kept_events_names_what_was_lost(
    service_instance, service_streams, case
):
    url = service_instance("records", RECORDS_EVENT_BUFFER="2")  # keeps 2 events per case
    with httpx.Client(base_url=url, trust_env=False) as instance:
        assert instance.post("/evidence-batches", json=_evidence(case, 5)).status_code == 201

    resumed = service_streams.subscribe("records", _events_of(case), {"after": 1}, url=url)

    missed, *replayed = (resumed.receive(HANG) for _ in range(3))
    assert (missed["type"], missed["payload"], missed["seq"]) == (
        "events.missed",
        {"first": 2, "last": 3},
        3,
    )
    assert _seqs(replayed) == [4, 5]


def test_a_resume_after_a_seq_records_never_reached_is_refused(service_streams, case):
    events = service_streams.subscribe("records", _events_of(case), {"after": 5})

    code, reason = events.wait_closed(HANG)

    assert code == 4409 and "beyond case" in reason


@pytest.mark.parametrize("subscribers", [5])
def test_stopping_records_closes_every_socket(
    harness_config, harness_stack, service_streams, case, subscribers
):
    """Records stopped as harness stops every service (SIGTERM to its group): each open
    socket gets a close frame (uvicorn's 1012, "service restart"), none is left hanging."""
    stack = Stack(harness_config, harness_stack.run_id)
    record = stack.start_instance("records", {}, f"records-events-{case['id']}")
    try:
        sockets = [
            service_streams.subscribe("records", _events_of(case), url=record.url)
            for _ in range(subscribers)
        ]
    finally:
        stack.stop_instance(record)

    assert [events.wait_closed(HANG)[0] for events in sockets] == [1012] * subscribers
