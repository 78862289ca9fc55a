"""The shared database connection: one engine per service process, from DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import HTTPException
from sqlalchemy import DateTime, Dialect, Engine, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, MappedColumn, Session, mapped_column, sessionmaker

Row = TypeVar("Row", bound=DeclarativeBase)


def engine_for(url: str | None = None) -> Engine:
    """An engine for `url` (default `DATABASE_URL`); SQLite gets foreign keys, cross-thread
    use and write-ahead logging, so readers do not wait for writers."""
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set; start this service through harness")
    if url.startswith("sqlite"):
        # One connection per process: threads then queue on the pool, woken as soon as it
        # is free, instead of in SQLite's busy handler, which sleeps up to 100 ms a try.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
        )

        @event.listens_for(engine, "connect")
        def _enable_foreign_keys(connection, _record) -> None:  # type: ignore[no-untyped-def]
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Lazily created engine and session factory, so importing an app needs no database.

    `Database(url)` is another database than `DATABASE_URL`'s: in-process tests override an
    app's `database.session` dependency with one's `session`, and `close()` it after.
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._sessions: sessionmaker[Session] | None = None

    def session(self) -> Iterator[Session]:
        """A FastAPI dependency: one session per request, closed afterwards."""
        if self._sessions is None:
            self._sessions = sessionmaker(engine_for(self._url), expire_on_commit=False)
        with self._sessions() as session:
            yield session

    def close(self) -> None:
        """Close the engine's connections (a database with connections cannot be dropped)."""
        if self._sessions is not None:
            engine = self._sessions.kw["bind"]
            engine.dispose()
            self._sessions = None


def utc_now() -> datetime:
    """Now, timezone-aware: the default of every service's timestamp columns."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that comes back timezone-aware (UTC) on every back end.

    SQLite keeps no offset, so without this a row read back differs from the one written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def timestamp(*, on_update: bool = False) -> MappedColumn[datetime]:
    """A UTC timestamp column set on insert (and, with `on_update`, on every update).

    Nullable, as the services' migrations created these columns: the app always fills them,
    but the models must say what the database holds, or autogenerate finds a difference.
    """
    return mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now if on_update else None, nullable=True
    )


def get_or_404(session: Session, model: type[Row], row_id: int) -> Row:
    """The row of `model` with this id; a 404 naming the model when there is none."""
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(404, f"{model.__name__.lower()} {row_id} not found")
    return row
