"""Alembic environment of the facts service (its own version table in the shared database)."""

from services.common.migrations_env import run_migrations
from services.facts.models import Base

run_migrations(Base.metadata, version_table="facts_alembic_version")
