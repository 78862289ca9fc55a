"""What the filings workflows share: status events to send, and waiting for the worker.

Waits poll for an outcome with a generous bound (a busy 2-core runner drains slowly), never
assert a time. A sentinel event sent last on a case shows, once applied, that every event
queued before it was handled too: the queue is one ordered stream and one worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from services.filings.queue import GROUP, STREAM

PATIENCE = 300.0  # seconds: far beyond any drain seen, never a budget
T = TypeVar("T")

STATUSES = ["submitted", "under_review", "accepted", "served"]


def status_event(case_id: int, event_id: str, status: str = "submitted", **fields: Any) -> dict:
    """A webhook body for the case's envelope `ENV-<case_id>`, unless `fields` say otherwise."""
    return {
        "event_id": event_id,
        "case_id": case_id,
        "envelope_id": f"ENV-{case_id}",
        "status": status,
        **fields,
    }


def wait_for(outcome: Callable[[], T], what: str, patience: float = PATIENCE) -> T:
    """Poll `outcome` until it is truthy; fail naming `what` if it never is."""
    deadline = time.monotonic() + patience
    while True:
        result = outcome()
        if result:
            return result
        assert time.monotonic() < deadline, f"never saw {what} in {patience:.0f} s"
        time.sleep(0.05)


def applied_events(client: httpx.Client, case_id: int) -> list[dict]:
    response = client.get(f"/cases/{case_id}/filing-events")
    assert response.status_code == 200, response.text
    return response.json()


def wait_until_applied(client: httpx.Client, case_id: int, event_id: str) -> list[dict]:
    """The case's applied events, once `event_id` is among them."""
    return wait_for(
        lambda: (
            (events := applied_events(client, case_id))
            and any(e["event_id"] == event_id for e in events)
            and events
        ),
        f"event {event_id} applied to case {case_id}",
    )


def backlog(redis: Any) -> tuple[int, int]:
    """(entries in the stream, entries delivered to the worker but not acknowledged)."""
    groups = (
        {g["name"].decode(): g for g in redis.xinfo_groups(STREAM)} if redis.exists(STREAM) else {}
    )
    return redis.xlen(STREAM), groups[GROUP]["pending"] if GROUP in groups else 0
