"""Records' tables: templates, cases, drafts (with every saved version) and evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, WriteOnlyMapped, mapped_column, relationship

from services.common.database import timestamp


class Base(DeclarativeBase):
    pass


class Template(Base):
    __tablename__ = "records_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    variables: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = timestamp()
    updated_at: Mapped[datetime] = timestamp(on_update=True)


class Case(Base):
    __tablename__ = "records_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_name: Mapped[str] = mapped_column(String(300), nullable=False)
    cause_number: Mapped[str] = mapped_column(String(100), nullable=False)
    court_name: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("records_templates.id", ondelete="SET NULL"), nullable=True
    )
    variables: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = timestamp()


class Draft(Base):
    __tablename__ = "records_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("records_cases.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = timestamp(on_update=True)
    versions: WriteOnlyMapped[DraftVersion] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class DraftVersion(Base):
    """A draft as it was saved at one version; (draft, version) is unique."""

    __tablename__ = "records_draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "version", name="uq_draft_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("records_drafts.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    saved_at: Mapped[datetime] = timestamp()


class Evidence(Base):
    __tablename__ = "records_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("records_cases.id", ondelete="CASCADE"), nullable=False
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(50), nullable=False, default="document")
    created_at: Mapped[datetime] = timestamp()
