"""Alembic environment of the filings service (its own version table in the shared database)."""

from services.common.migrations_env import run_migrations
from services.filings.models import Base

run_migrations(Base.metadata, version_table="filings_alembic_version")
