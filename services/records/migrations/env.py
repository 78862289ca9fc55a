"""Alembic environment of the records service (its own version table in the shared database)."""

from services.common.migrations_env import run_migrations
from services.records.models import Base

run_migrations(Base.metadata, version_table="records_alembic_version")
