"""exhibits' table: a case's exhibits, numbered 1, 2, … (lettered A, B, …), linked to evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.database import timestamp


class Base(DeclarativeBase):
    pass


class Exhibit(Base):
    """case_id and evidence_id point into records' tables, which records owns: no foreign keys."""

    __tablename__ = "exhibits_exhibits"
    __table_args__ = (
        UniqueConstraint("case_id", "position", name="uq_exhibits_case_position"),
        UniqueConstraint("case_id", "evidence_id", name="uq_exhibits_case_evidence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False)
    evidence_id: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[datetime] = timestamp()
