"""Applying queued status events to the database: in the order given, each at most once.

The caller commits the session once the whole batch is applied and only then acknowledges
the batch's entries. An event whose id is already recorded was applied before (a redelivery
after a crash, or the provider sending it again) and is skipped; the record of it and its
effect are written in one transaction, so there is never one without the other.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.filings.events import QueuedEvent
from services.filings.models import Envelope, StatusEvent


def apply_events(session: Session, events: list[QueuedEvent]) -> int:
    """Apply each event not applied before, in order; how many were new."""
    applied = 0
    for event in events:
        if session.scalar(select(StatusEvent.id).where(StatusEvent.event_id == event.event_id)):
            continue
        _apply(session, event)
        session.flush()  # the next event's lookups see this one
        applied += 1
    return applied


def _apply(session: Session, event: QueuedEvent) -> None:
    """Record the event as the case's next, and set its envelope's status."""
    last = session.scalar(
        select(func.max(StatusEvent.position)).where(StatusEvent.case_id == event.case_id)
    )
    session.add(
        StatusEvent(
            event_id=event.event_id,
            case_id=event.case_id,
            position=(last or 0) + 1,
            envelope_id=event.envelope_id,
            status=event.status,
            message=event.message,
            received_at=event.received_at,
        )
    )
    envelope = session.scalar(
        select(Envelope).where(
            Envelope.case_id == event.case_id, Envelope.envelope_id == event.envelope_id
        )
    )
    if envelope is None:
        envelope = Envelope(case_id=event.case_id, envelope_id=event.envelope_id, events=0)
        session.add(envelope)
    envelope.status = event.status
    envelope.message = event.message
    envelope.events += 1
