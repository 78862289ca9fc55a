"""Case events: what records publishes on `WS /cases/{case_id}/events`.

Every change records makes to a case's drafts or evidence is published, after its commit,
to the case's subscribers as one JSON message: `seq` (1, 2, 3, … per case, in publication
order), `type`, `case_id`, `at` (when it was published, UTC) and a `payload` per type. The
message models below are the stream's contract; `/asyncapi.json` is generated from them.

Publishing is in-process (records is one process): each subscriber has a queue of at most
`RECORDS_EVENT_QUEUE` events (default 256) that its own task sends, so a subscriber that
reads slowly never holds up the others. One that falls that far behind is closed with
code 4008 (`CLOSE_TOO_SLOW`) after the events it was already sent, all in order; it may
resume. The last `RECORDS_EVENT_BUFFER` events of each case (default 1000) are kept:
`?after=<seq>` first replays those after `seq`, then the live ones. Events older than the
buffer are lost: the replay then starts with one `events.missed` message naming the seqs
that cannot be replayed (its `seq` is the last of them). Sequence numbers live as long as
the process: after a restart of records they start at 1 again, and `after` beyond a case's
latest `seq` is closed with code 4409 (`CLOSE_AFTER_UNKNOWN`). An unknown case is closed
with 4404 (`CLOSE_UNKNOWN_CASE`). A client's own messages are ignored.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import anyio.from_thread
from pydantic import BaseModel, Field

from services.common.streams import Channel

CLOSE_TOO_SLOW = 4008
CLOSE_UNKNOWN_CASE = 4404
CLOSE_AFTER_UNKNOWN = 4409
STREAM_VERSION = "1.0.0"


class _Event(BaseModel):
    seq: int = Field(ge=1, description="1, 2, 3, … per case, in publication order")
    case_id: int = Field(ge=1)
    at: datetime = Field(description="When records published it (UTC)")


class DraftChange(BaseModel):
    draft_id: int
    version: int = Field(ge=1)
    title: str


class EvidenceChange(BaseModel):
    evidence_id: int
    kind: str
    description: str


class MissedRange(BaseModel):
    first: int = Field(ge=1, description="The first seq that cannot be replayed")
    last: int = Field(ge=1, description="The last seq that cannot be replayed")


class DraftCreated(_Event):
    """A draft was created for the case (version 1)."""

    type: Literal["draft.created"]
    payload: DraftChange


class DraftSaved(_Event):
    """A new version of one of the case's drafts was saved."""

    type: Literal["draft.saved"]
    payload: DraftChange


class EvidenceAdded(_Event):
    """An evidence item was added to the case."""

    type: Literal["evidence.added"]
    payload: EvidenceChange


class EventsMissed(_Event):
    """A resume asked for events no longer kept: these seqs are lost to this subscriber."""

    type: Literal["events.missed"]
    payload: MissedRange


CASE_EVENTS = Channel(
    name="caseEvents",
    address="/cases/{case_id}/events",
    description=(
        "A case's events, in seq order. `?after=<seq>` resumes: the kept events after it are "
        "replayed first. Close codes: 4008 the subscriber fell more than its queue behind, "
        "4404 no such case, 4409 `after` is beyond the case's latest seq, 1012 records stopped."
    ),
    parameters={"case_id": "The case's id"},
    messages=(DraftCreated, DraftSaved, EvidenceAdded, EventsMissed),
    query={
        "type": "object",
        "properties": {"after": {"type": "integer", "minimum": 0}},
    },
)


@dataclass(eq=False)
class Subscriber:
    """One socket's queue of events to send; `overflowed` once it fell too far behind."""

    queue: asyncio.Queue[dict[str, Any]]
    replay: list[dict[str, Any]] = field(default_factory=list)
    overflowed: bool = False


class CaseEvents:
    """The fan-out: per case, a seq counter, the kept events and the subscribers. Used from
    the event loop's thread only (endpoints publish through `publish_from_worker`)."""

    def __init__(self, buffer: int, queue: int) -> None:
        self.buffer = buffer
        self.queue = queue
        self._latest: dict[int, int] = {}
        self._kept: dict[int, deque[dict[str, Any]]] = {}
        self._subscribers: dict[int, set[Subscriber]] = defaultdict(set)

    def publish(self, case_id: int, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        seq = self._latest.get(case_id, 0) + 1
        self._latest[case_id] = seq
        event = {
            "seq": seq,
            "type": type_,
            "case_id": case_id,
            "at": datetime.now(UTC).isoformat(),
            "payload": payload,
        }
        self._kept.setdefault(case_id, deque(maxlen=self.buffer)).append(event)
        for subscriber in list(self._subscribers[case_id]):
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                self._subscribers[case_id].discard(subscriber)
        return event

    def subscribe(self, case_id: int, after: int | None) -> Subscriber | None:
        """A subscriber of the case, its replay after `after` ready; None when `after` is
        beyond the case's latest seq. No await here: no event is missed or sent twice."""
        latest = self._latest.get(case_id, 0)
        if after is not None and after > latest:
            return None
        subscriber = Subscriber(asyncio.Queue(self.queue))
        if after is not None and after < latest:
            kept = list(self._kept.get(case_id, ()))
            first_kept = kept[0]["seq"] if kept else latest + 1
            if after + 1 < first_kept:
                subscriber.replay.append(_missed(case_id, after + 1, first_kept - 1))
            subscriber.replay.extend(event for event in kept if event["seq"] > after)
        self._subscribers[case_id].add(subscriber)
        return subscriber

    def unsubscribe(self, case_id: int, subscriber: Subscriber) -> None:
        self._subscribers[case_id].discard(subscriber)


def _missed(case_id: int, first: int, last: int) -> dict[str, Any]:
    return {
        "seq": last,
        "type": "events.missed",
        "case_id": case_id,
        "at": datetime.now(UTC).isoformat(),
        "payload": {"first": first, "last": last},
    }


hub = CaseEvents(
    buffer=int(os.environ.get("RECORDS_EVENT_BUFFER", "1000")),
    queue=int(os.environ.get("RECORDS_EVENT_QUEUE", "256")),
)


def publish_from_worker(case_id: int, type_: str, payload: dict[str, Any]) -> None:
    """Publish from an endpoint running in a worker thread (FastAPI's sync endpoints): the
    event gets its seq in the event loop's thread, so seqs follow publication order."""
    anyio.from_thread.run_sync(hub.publish, case_id, type_, payload)
