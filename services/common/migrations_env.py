"""The body of every service's Alembic env.py: its own version table in the shared database.

A connection passed in `config.attributes["connection"]` is used as it is (harness passes one
to check migrations; an Engine there, as pytest-alembic passes, is connected to); otherwise
`sqlalchemy.url`, else `DATABASE_URL`, is connected to.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, Engine, MetaData, create_engine


def run_migrations(metadata: MetaData, version_table: str) -> None:
    """Run the migrations Alembic asked for, online or offline (`--sql`)."""
    config = context.config
    options = {"target_metadata": metadata, "version_table": version_table, "render_as_batch": True}
    if context.is_offline_mode():
        context.configure(url=_url(), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        context.configure(connection=given, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = given if isinstance(given, Engine) else create_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if engine is not given:  # an engine passed in is its owner's to dispose
            engine.dispose()


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url or DATABASE_URL")
    return url
