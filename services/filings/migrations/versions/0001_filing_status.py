"""filing status: envelopes and the court's status events applied to them

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filings_envelopes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("envelope_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("case_id", "envelope_id", name="uq_filings_case_envelope"),
    )
    op.create_table(
        "filings_status_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("envelope_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("case_id", "position", name="uq_filings_case_position"),
        sa.UniqueConstraint("event_id", name="uq_filings_event_id"),
    )


def downgrade() -> None:
    op.drop_table("filings_status_events")
    op.drop_table("filings_envelopes")
