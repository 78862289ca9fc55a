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


def upgrade() -> None:
    with op.batch_alter_table("records_cases") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=True))
    op.execute(
        "UPDATE records_cases SET status = CASE WHEN EXISTS "
        "(SELECT 1 FROM records_drafts WHERE records_drafts.case_id = records_cases.id) "
        "THEN 'drafting' ELSE 'open' END"
    )
    with op.batch_alter_table("records_cases") as batch:
        batch.alter_column("status", existing_type=sa.String(20), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("records_cases") as batch:
        batch.drop_column("status")
