"""templates and cases

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
        "records_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "records_cases",
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
    )


def downgrade() -> None:
    op.drop_table("records_cases")
    op.drop_table("records_templates")
