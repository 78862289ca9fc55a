"""cited exhibits: the exhibits a statement of fact cites, empty for existing statements

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facts_statements") as batch:
        batch.add_column(sa.Column("exhibit_ids", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("facts_statements") as batch:
        batch.drop_column("exhibit_ids")
