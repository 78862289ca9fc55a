"""filings: court e-filing status webhooks, queued in Redis and applied by filings-worker.

`POST /webhooks/efiling` validates an event and queues it (202); the worker
(`services/filings/worker.py`) applies queued events in order, each once, and the case's
envelopes and their status history are read back here. When the queue holds
`FILINGS_QUEUE_MAX_LENGTH` events (default 50,000), or Redis cannot be reached, the answer is a
503 with Retry-After, and the provider delivers the event again later: nothing is lost.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from pydantic import BaseModel, ConfigDict
from redis import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.database import Database
from services.common.fields import path_id
from services.common.redis_connection import redis_from_env
from services.common.web import ErrorBody, create_app, ordered_by
from services.filings.events import FilingStatus, QueuedEvent, StatusEventIn
from services.filings.models import Envelope, StatusEvent
from services.filings.queue import QueueFull, StatusQueue

app = create_app(
    "filings", "Court e-filing status webhooks, applied to each case in order.", "1.0.0"
)
database = Database()
DB = Annotated[Session, Depends(database.session)]
CaseId = Annotated[int, path_id("case")]
RETRY_AFTER_SECONDS = 5
DEFAULT_MAX_LENGTH = 50_000
REDIS_TIMEOUT = 2.0
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorBody,
        "description": "The queue is full or unreachable: nothing was queued; send it again later",
        "headers": {
            "Retry-After": {
                "required": True,
                "schema": {"type": "string"},
                "description": "Seconds to wait before sending the event again",
            }
        },
    }
}


@functools.cache
def status_queue() -> StatusQueue:
    """The queue, made on first use (importing the app needs no Redis)."""
    max_length = int(os.environ.get("FILINGS_QUEUE_MAX_LENGTH", DEFAULT_MAX_LENGTH))
    return StatusQueue(redis_from_env(socket_timeout=REDIS_TIMEOUT), max_length)


class Accepted(BaseModel):
    event_id: str
    message_id: str


class EnvelopeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    envelope_id: str
    status: FilingStatus
    message: str | None
    events: int
    updated_at: datetime


class StatusEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    event_id: str
    envelope_id: str
    status: FilingStatus
    message: str | None
    received_at: datetime
    applied_at: datetime


@app.post(
    "/webhooks/efiling",
    status_code=202,
    response_model=Accepted,
    responses={202: {"description": "Queued for the worker"}, **UNAVAILABLE},
)
def receive_status_event(body: StatusEventIn) -> Accepted:
    """Queue the event for the worker; it is applied once, however often it is sent."""
    event = QueuedEvent(**body.model_dump(), received_at=datetime.now(UTC))
    try:
        message_id = status_queue().enqueue(event.model_dump_json())
    except QueueFull as exc:
        raise _unavailable(f"the filing queue is full ({exc}); nothing was queued") from None
    except RedisError as exc:
        raise _unavailable(f"the filing queue is unreachable ({exc}); nothing was queued") from None
    return Accepted(event_id=body.event_id, message_id=message_id)


def _unavailable(detail: str) -> HTTPException:
    return HTTPException(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@app.get(
    "/cases/{case_id}/filings",
    response_model=list[EnvelopeOut],
    openapi_extra=ordered_by("id"),
)
def list_envelopes(case_id: CaseId, session: DB) -> list[Envelope]:
    """The case's envelopes, each with the status its latest applied event gave it."""
    return list(
        session.scalars(select(Envelope).where(Envelope.case_id == case_id).order_by(Envelope.id))
    )


@app.get(
    "/cases/{case_id}/filing-events",
    response_model=list[StatusEventOut],
    openapi_extra=ordered_by("position"),
)
def list_status_events(case_id: CaseId, session: DB) -> list[StatusEvent]:
    """The case's status events in the order they were applied."""
    query = select(StatusEvent).where(StatusEvent.case_id == case_id).order_by(StatusEvent.position)
    return list(session.scalars(query))
