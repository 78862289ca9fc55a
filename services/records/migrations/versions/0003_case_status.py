"""case status, backfilled: cases with drafts are 'drafting', the others 'open'

A data migration: existing rows get a status derived from their drafts before the
column becomes NOT NULL.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _cases_with_nullable_status() -> sa.Table:
    """records_cases once the column is added: batch mode copies this table instead of
    reflecting it, so `upgrade --sql` renders for SQLite too."""
    metadata = sa.MetaData()
    sa.Table("records_templates", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "records_cases",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_name", sa.String(300), nullable=False),
        sa.Column("cause_number", sa.String(100), nullable=False),
        sa.Column("court_name", sa.String(300), nullable=False),
        sa.Column(
            "template_id",
            sa.Integer,
            sa.ForeignKey("records_templates.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(20), nullable=True),
    )


def upgrade() -> None:
    op.add_column("records_cases", sa.Column("status", sa.String(20), nullable=True))
    op.execute(
        "UPDATE records_cases SET status = CASE WHEN EXISTS "
        "(SELECT 1 FROM records_drafts WHERE records_drafts.case_id = records_cases.id) "
        "THEN 'drafting' ELSE 'open' END"
    )
    with op.batch_alter_table("records_cases", copy_from=_cases_with_nullable_status()) as batch:
        batch.alter_column("status", existing_type=sa.String(20), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("records_cases") as batch:
        batch.drop_column("status")
