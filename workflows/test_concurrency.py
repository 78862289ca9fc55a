"""Every number, position and uniqueness the services assign, with N requests at once.

On PostgreSQL requests really overlap in the database, so a uniqueness the code relies on
but the database does not hold shows here as duplicates; the losers of a race must get the
documented 409, never a 500. (SQLite serialises each service's writes: all win there.)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from filing_events import status_event, wait_until_applied
from steps import created

from harness.testing import Call

N = 20


def _evidence(records, case, count: int) -> list[dict[str, Any]]:
    items = [{"case_id": case["id"], "description": f"Item {n}"} for n in range(count)]
    return created(records.post("/evidence-batches", json={"items": items}))


def _exhibit(case, item) -> Call:
    body = {"case_id": case["id"], "evidence_id": item["id"], "title": item["description"]}
    return Call("POST", "/exhibits", json=body)


def _statuses(responses) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def _listed_exhibits(service_clients, case) -> list[dict[str, Any]]:
    return created(
        service_clients["exhibits"].get("/exhibits", params={"case_id": case["id"]}), 200
    )


def test_exhibits_added_at_once_get_distinct_consecutive_letters(
    at_once, service_clients, records, case
):
    responses = at_once("exhibits", [_exhibit(case, item) for item in _evidence(records, case, N)])

    statuses = _statuses(responses)
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, statuses
    won = [r.json() for r in responses if r.status_code == 201]
    positions = sorted(exhibit["position"] for exhibit in won)
    assert positions == list(range(1, len(won) + 1)), f"positions given: {positions}"
    assert all("reload and retry" in r.json()["detail"] for r in responses if r.status_code == 409)
    listed = _listed_exhibits(service_clients, case)
    assert [(e["id"], e["letter"]) for e in listed] == [
        (e["id"], e["letter"]) for e in sorted(won, key=lambda e: e["position"])
    ]


def test_one_evidence_item_added_at_once_becomes_one_exhibit(
    at_once, service_clients, records, case
):
    (item,) = _evidence(records, case, 1)

    responses = at_once("exhibits", [_exhibit(case, item)] * N)

    assert _statuses(responses) == {201: 1, 409: N - 1}
    assert [e["evidence_id"] for e in _listed_exhibits(service_clients, case)] == [item["id"]]


def test_exhibits_deleted_at_once_leave_the_rest_lettered_without_gaps(
    at_once, service_clients, records, case
):
    exhibits = service_clients["exhibits"]
    added = [
        created(exhibits.post("/exhibits", json=_exhibit(case, item).json))
        for item in _evidence(records, case, 2 * N)
    ]
    doomed, kept = added[::2], added[1::2]

    responses = at_once("exhibits", [Call("DELETE", f"/exhibits/{e['id']}") for e in doomed])

    assert _statuses(responses) == {204: N}
    listed = _listed_exhibits(service_clients, case)
    assert [e["id"] for e in listed] == [e["id"] for e in kept]
    assert [e["position"] for e in listed] == list(range(1, N + 1))


def test_saves_of_one_draft_version_at_once_one_wins_and_no_version_is_skipped(
    at_once, records, case
):
    draft = created(records.post("/drafts", json={"case_id": case["id"], "title": "v1"}))
    rounds = 3

    for version in range(1, rounds + 1):
        calls = [
            Call("PUT", f"/drafts/{draft['id']}", json={"version": version, "title": f"by {n}"})
            for n in range(N)
        ]
        assert _statuses(at_once("records", calls)) == {200: 1, 409: N - 1}, f"v{version}"

    versions = created(records.get(f"/drafts/{draft['id']}/versions"), 200)
    assert [v["version"] for v in versions] == list(range(1, rounds + 2))
    final = created(records.get(f"/drafts/{draft['id']}"), 200)
    assert (final["version"], final["title"]) == (rounds + 1, versions[-1]["title"])


@pytest.mark.parametrize(
    ("service", "path"), [("records", "/cases"), ("records", "/evidence"), ("facts", "/facts")]
)
def test_rows_created_at_once_all_succeed_with_distinct_ids(
    at_once, service_clients, case, unique, service, path
):
    bodies = {
        "/cases": lambda n: {"case_name": unique(f"C{n}"), "cause_number": "1", "court_name": "X"},
        "/evidence": lambda n: {"case_id": case["id"], "description": unique(f"E{n}")},
        "/facts": lambda n: {"case_id": case["id"], "text": unique(f"F{n}")},
    }
    calls = [Call("POST", path, json=bodies[path](n)) for n in range(N)]

    responses = at_once(service, calls)

    assert _statuses(responses) == {201: N}
    ids = {r.json()["id"]: call.json for r, call in zip(responses, calls, strict=True)}
    assert len(ids) == N
    for row_id, body in ids.items():
        stored = created(service_clients[service].get(f"{path}/{row_id}"), 200)
        assert {key: stored[key] for key in body} == body


def _webhook(event: dict[str, Any]) -> Call:
    return Call("POST", "/webhooks/efiling", json=event)


def _applied_through(service_clients, case, unique) -> list[dict[str, Any]]:
    """The case's applied filing events, once a sentinel sent after everything else is:
    one queue, one worker, so all that was queued before it was handled too."""
    sentinel = unique("sentinel")
    filings = service_clients["filings"]
    last = status_event(case["id"], sentinel, "served")
    created(filings.post("/webhooks/efiling", json=last), 202)
    return wait_until_applied(filings, case["id"], sentinel)


def test_one_status_event_delivered_at_once_is_applied_once(at_once, service_clients, case, unique):
    # a provider retrying hard: N deliveries of one event overlap in the service and queue
    event = status_event(case["id"], unique("evt"), "submitted")

    responses = at_once("filings", [_webhook(event)] * N)

    assert _statuses(responses) == {202: N}
    events = _applied_through(service_clients, case, unique)
    assert [e["event_id"] for e in events][:-1] == [event["event_id"]]
    [envelope] = created(service_clients["filings"].get(f"/cases/{case['id']}/filings"), 200)
    assert envelope["events"] == 2


def test_status_events_of_one_case_sent_at_once_get_distinct_consecutive_positions(
    at_once, service_clients, case, unique
):
    ids = [unique(f"evt{n}") for n in range(N)]

    responses = at_once("filings", [_webhook(status_event(case["id"], i)) for i in ids])

    assert _statuses(responses) == {202: N}
    events = _applied_through(service_clients, case, unique)
    assert [e["position"] for e in events] == list(range(1, N + 2))
    assert sorted(e["event_id"] for e in events[:-1]) == sorted(ids)
