"""Court e-filing status webhooks through the stack's own filings, Redis and filings-worker:
accepted (202), queued, applied to the database in order per case, each once, and read back
through filings' API."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from filing_events import STATUSES, status_event, wait_until_applied
from steps import created


@pytest.fixture
def filings(service_clients):
    return service_clients["filings"]


def send(filings: httpx.Client, event: dict) -> dict:
    return created(filings.post("/webhooks/efiling", json=event), 202)


def test_a_webhook_is_applied_to_its_case_and_readable_through_the_api(filings, case, unique):
    event_id = unique("evt")
    event = status_event(case["id"], event_id, "rejected", message="Missing signature block")

    accepted = send(filings, event)

    assert accepted["event_id"] == event_id
    [applied] = wait_until_applied(filings, case["id"], event_id)
    assert {
        k: applied[k] for k in ("position", "event_id", "envelope_id", "status", "message")
    } == {
        "position": 1,
        "event_id": event_id,
        "envelope_id": f"ENV-{case['id']}",
        "status": "rejected",
        "message": "Missing signature block",
    }
    [envelope] = created(filings.get(f"/cases/{case['id']}/filings"), 200)
    assert (envelope["envelope_id"], envelope["status"], envelope["events"]) == (
        f"ENV-{case['id']}",
        "rejected",
        1,
    )


def test_a_redelivered_event_changes_nothing(filings, case, unique):
    first, second, last = unique("evt"), unique("evt"), unique("evt")
    send(filings, status_event(case["id"], first, "submitted"))
    send(filings, status_event(case["id"], second, "accepted"))

    send(filings, status_event(case["id"], first, "submitted"))  # the provider sends it again
    send(filings, status_event(case["id"], last, "served"))

    events = wait_until_applied(filings, case["id"], last)
    assert [(e["position"], e["event_id"]) for e in events] == [(1, first), (2, second), (3, last)]
    [envelope] = created(filings.get(f"/cases/{case['id']}/filings"), 200)
    assert (envelope["status"], envelope["events"]) == ("served", 3)


def test_each_case_gets_its_events_in_order_under_load(filings, make_case, unique, record_property):
    """20 cases, 100 events each, sent by 20 concurrent senders (each sends its case's events
    one after another): every case ends with exactly its 100 events, in the order sent."""
    cases = [make_case()["id"] for _ in range(20)]
    run = unique("load")
    per_case = 100

    def send_all(case_id: int) -> int:
        with httpx.Client(base_url=str(filings.base_url), timeout=30) as client:
            for n in range(1, per_case + 1):
                event = status_event(case_id, f"{run}-{case_id}-{n}", STATUSES[n % len(STATUSES)])
                send(client, event)
        return per_case

    with ThreadPoolExecutor(max_workers=len(cases)) as senders:
        started = time.monotonic()
        assert sum(senders.map(send_all, cases)) == 2000
        record_property(
            "filings.load.messages_per_second", round(2000 / (time.monotonic() - started))
        )

    for case_id in cases:
        events = wait_until_applied(filings, case_id, f"{run}-{case_id}-{per_case}")
        assert [e["event_id"] for e in events] == [
            f"{run}-{case_id}-{n}" for n in range(1, per_case + 1)
        ]
        assert [e["position"] for e in events] == list(range(1, per_case + 1))
