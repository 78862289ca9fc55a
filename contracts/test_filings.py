"""filings: a court e-filing status webhook is validated, then accepted (202) for the worker;
a malformed one is refused before anything is queued. What the worker applies is read back per
case (workflows/test_filings.py follows events through the queue)."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def filings(service_clients):
    return service_clients["filings"]


def event(**fields):
    return {
        "event_id": "evt-1",
        "case_id": 1,
        "envelope_id": "ENV-1",
        "status": "submitted",
        **fields,
    }


def test_a_valid_event_is_accepted_for_the_worker(filings, case, unique):
    event_id = unique("evt")

    response = filings.post(
        "/webhooks/efiling", json=event(event_id=event_id, case_id=case["id"], message=None)
    )

    assert response.status_code == 202
    assert response.json()["event_id"] == event_id
    assert re.fullmatch(r"\d+-\d+", response.json()["message_id"])  # its place in the stream


def test_a_redelivered_event_is_accepted_again(filings, case, unique):
    """The provider may send an event twice; both are accepted (that the worker applies it
    once is workflows/test_filings.py's)."""
    body = event(event_id=unique("evt"), case_id=case["id"])

    answers = [filings.post("/webhooks/efiling", json=body) for _ in range(2)]

    assert [a.status_code for a in answers] == [202, 202]
    first, second = (tuple(map(int, a.json()["message_id"].split("-"))) for a in answers)
    assert first < second  # queued twice, in the order sent


@pytest.mark.parametrize(
    "change",
    [
        {"status": "lost"},
        {"event_id": "   "},
        {"event_id": "x" * 101},
        {"envelope_id": ""},
        {"case_id": 0},
        {"case_id": "seven"},
        {"message": "x" * 2001},
        {"message": "nul\x00"},
    ],
    ids=[
        "unknown-status",
        "blank-event-id",
        "event-id-too-long",
        "empty-envelope",
        "case-id-0",
        "case-id-not-int",
        "message-too-long",
        "message-with-nul",
    ],
)
def test_a_malformed_event_is_422(filings, change):
    response = filings.post("/webhooks/efiling", json=event(**change))

    assert response.status_code == 422


@pytest.mark.parametrize("missing", ["event_id", "case_id", "envelope_id", "status"])
def test_an_event_without_a_required_field_is_422(filings, missing):
    body = event()
    del body[missing]

    response = filings.post("/webhooks/efiling", json=body)

    assert response.status_code == 422
    assert missing in response.text


def test_a_body_that_is_not_json_is_refused(filings):
    response = filings.post(
        "/webhooks/efiling", content=b"event_id=1", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422


def test_a_case_without_events_has_no_filings(filings):
    assert filings.get("/cases/2147483000/filings").json() == []
    assert filings.get("/cases/2147483000/filing-events").json() == []


@pytest.mark.parametrize("path", ["/cases/0/filings", "/cases/2147483648/filing-events"])
def test_a_case_id_out_of_range_is_422(filings, path):
    assert filings.get(path).status_code == 422
