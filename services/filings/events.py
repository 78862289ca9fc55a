"""A court e-filing status event: the webhook's body, and what the queue carries to the worker
(the same fields, stamped with when filings received it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from services.common.fields import Id, text


class FilingStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SERVED = "served"


class StatusEventIn(BaseModel):
    """What the e-filing provider posts when a filing's status changes."""

    event_id: Annotated[str, text(100)] = Field(
        description="The provider's id of this event: a redelivery carries the same one"
    )
    case_id: Id = Field(description="The records case the filing belongs to")
    envelope_id: Annotated[str, text(100)] = Field(description="The court's envelope id")
    status: FilingStatus
    message: Annotated[str, text(2000, blank=True)] | None = Field(
        default=None, description="The clerk's note, e.g. why a filing was rejected"
    )


class QueuedEvent(StatusEventIn):
    """A status event as queued for the worker."""

    received_at: datetime
