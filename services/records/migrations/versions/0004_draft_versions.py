"""draft versions: every saved version of a draft, backfilled with each draft's current one

A data migration: each existing draft gets one row, its current version (earlier versions
were never kept, so they cannot be recovered).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records_draft_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "draft_id",
            sa.Integer,
            sa.ForeignKey("records_drafts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("draft_id", "version", name="uq_draft_versions_version"),
    )
    op.execute(
        "INSERT INTO records_draft_versions (draft_id, version, title, sections, saved_at) "
        "SELECT id, version, title, sections, updated_at FROM records_drafts"
    )


def downgrade() -> None:
    op.drop_table("records_draft_versions")
