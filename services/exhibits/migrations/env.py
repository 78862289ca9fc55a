"""Alembic environment of the exhibits service (its own version table in the shared database)."""

from services.common.migrations_env import run_migrations
from services.exhibits.models import Base

run_migrations(Base.metadata, version_table="exhibits_alembic_version")
