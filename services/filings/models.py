"""filings' tables: each case's filing envelopes with their court status, and every status
event applied to them, in the order the worker applied it.

An event's `event_id` (the e-filing provider's) is unique: the row that records an event's
effect is also the record that it was processed, written in the same transaction, so a
redelivered event finds it and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.database import UTCDateTime, timestamp


class Base(DeclarativeBase):
    pass


class Envelope(Base):
    """A filing the court knows by its envelope id, with the status its last event gave it."""

    __tablename__ = "filings_envelopes"
    __table_args__ = (UniqueConstraint("case_id", "envelope_id", name="uq_filings_case_envelope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False)
    envelope_id: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    events: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class StatusEvent(Base):
    """One applied status event; `position` numbers a case's events 1, 2, 3… as applied."""

    __tablename__ = "filings_status_events"
    __table_args__ = (
        UniqueConstraint("case_id", "position", name="uq_filings_case_position"),
        UniqueConstraint("event_id", name="uq_filings_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), nullable=False)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    envelope_id: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    applied_at: Mapped[datetime] = timestamp()
