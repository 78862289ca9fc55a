"""facts' table: statements of fact, each attached to a records case and citing exhibits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.database import timestamp


class Base(DeclarativeBase):
    pass


class Fact(Base):
    """No foreign key to records_cases: records owns that table, facts asks records."""

    __tablename__ = "facts_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    exhibit_ids: Mapped[list[int]] = mapped_column(
        JSON, nullable=False, default=list, server_default="[]"
    )
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)
