"""Databases harness makes and drops on the run's back end: empty, or copies of another.

On PostgreSQL a copy is `CREATE DATABASE … TEMPLATE` on the run's server, on SQLite a copy
of the file. PostgreSQL databases are named after the run's (`<run database>_<tag><n>`) and,
once created, written to the run's ledger: dropped by their owner, and by `services.down`
if a test crashed before it could. Their name alone never makes a database the run's.

Two users: `DatabaseTemplate` (a fresh migrated database per test, cloned from one
template) and the migration checker (a snapshot of the database at every revision).
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import make_url

from harness import infra
from harness.config import HarnessConfig
from harness.db import _databases as databases
from harness.db._migrated import migrate_all
from harness.infra import DatabaseRecord

if TYPE_CHECKING:
    import psycopg

TMPFS_ROOM = infra.SQLITE_ROOM  # bytes tmpfs must have free to take the checks' SQLite files


class ScratchDatabases(Protocol):
    """Databases made on demand and dropped when done."""

    backend: str

    def create(self, copy_of: str | None = None) -> str:
        """The SQLAlchemy URL of a new database: empty, or with `copy_of`'s schema and rows."""
        ...

    def drop(self, url: str) -> None:
        """Remove a database this object made."""
        ...

    def close(self) -> None:
        """Remove every database this object made and has not dropped."""
        ...


class SQLiteScratch:
    """SQLite files in `directory` (removed on close if `owns_directory`)."""

    backend = "sqlite"

    def __init__(self, directory: Path, owns_directory: bool = False) -> None:
        self._directory = directory
        self._owns_directory = owns_directory
        self._numbers = itertools.count(1)
        self._made: set[Path] = set()

    @classmethod
    def on_tmpfs(cls, fallback: Path) -> SQLiteScratch:
        """Files in a directory of their own on tmpfs when it has room (commits then wait for
        no disk), else in `fallback`."""
        directory = infra.tmpfs_directory("harness-scratch-", TMPFS_ROOM)
        return cls(directory, owns_directory=True) if directory else cls(fallback)

    def create(self, copy_of: str | None = None) -> str:
        path = self._directory / f"db-{next(self._numbers)}.sqlite3"
        if copy_of is not None:
            shutil.copyfile(self._path(copy_of), path)
        self._made.add(path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = self._path(url)
        if path not in self._made:
            raise ValueError(f"refusing to drop {path}: not a database this object made")
        databases.remove_sqlite_file(path)
        self._made.discard(path)

    def close(self) -> None:
        for path in self._made:
            databases.remove_sqlite_file(path)
        self._made.clear()
        if self._owns_directory:
            shutil.rmtree(self._directory, ignore_errors=True)

    @staticmethod
    def _path(url: str) -> Path:
        return Path(url.removeprefix("sqlite:///"))


class PostgresScratch:
    """Databases `<run database>_<tag><n>` on the run's server, made and dropped on one
    admin connection kept open until `close` (a connection costs more than a copy).

    `tag` (an xdist worker id, say) keeps the names of parallel users apart.
    """

    backend = "postgres"

    def __init__(self, config: HarnessConfig, record: DatabaseRecord, tag: str) -> None:
        self._config = config
        self._record = record
        self._conninfo = databases.admin_conninfo(record)
        self._ledger = databases.run_ledger(record)
        self._prefix = f"{record.name}_{re.sub(r'[^a-z0-9]', '', tag.lower())[:4]}"
        self._numbers = itertools.count(1)
        self._made: set[str] = set()
        self._where = f"the run's server ({record.display_url})"
        self._admin: psycopg.Connection | None = None
        self._strategy: str | None = None

    def _connection(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = databases.admin_connection(self._conninfo, self._where)
            self._strategy = databases.copy_strategy(self._record, self._admin)
        return self._admin

    def create(self, copy_of: str | None = None) -> str:
        name = f"{self._prefix}d{next(self._numbers)}"
        connection = self._connection()
        template = None
        if copy_of is not None:
            template = self._name(copy_of)
            # an env.py that leaves its pool open would make the copy fail
            databases.end_sessions_on(connection, template)
        databases.create_on(
            connection,
            name,
            self._where,
            template=template,
            ledger=self._ledger,
            strategy=self._strategy if template else None,
        )
        self._made.add(name)
        return databases.service_url(self._record, self._config, name)

    def drop(self, url: str) -> None:
        name = self._name(url)
        if name not in self._made:
            raise ValueError(f"refusing to drop {name!r}: not a database this object made")
        self._drop(name)

    def close(self) -> None:
        try:
            for name in sorted(self._made):
                self._drop(name)
        finally:
            if self._admin is not None:
                self._admin.close()
                self._admin = None

    def _drop(self, name: str) -> None:
        databases.drop_on(self._connection(), name)
        self._made.discard(name)
        if self._ledger is not None:
            self._ledger.discard(name)

    @staticmethod
    def _name(url: str) -> str:
        return make_url(url).database or ""


def scratch_for(
    config: HarnessConfig,
    record: DatabaseRecord,
    tag: str,
    directory: Path,
    tmpfs: bool = False,
) -> ScratchDatabases:
    """Scratch databases on the run's back end: SQLite files in `directory` (on tmpfs instead,
    if `tmpfs` and it has room: the migration checks commit often), or PostgreSQL."""
    if record.backend == "sqlite":
        return SQLiteScratch.on_tmpfs(directory) if tmpfs else SQLiteScratch(directory)
    return PostgresScratch(config, record, tag)


class DatabaseTemplate:
    """Every service's migrations applied once; `clone()` hands out copies of the result."""

    def __init__(self, config: HarnessConfig, scratch: ScratchDatabases) -> None:
        self._scratch = scratch
        self._url = scratch.create()
        try:
            migrate_all(config, self._url)
        except BaseException:
            scratch.close()
            raise

    @property
    def url(self) -> str:
        """The template's own URL (to compare with, never to hand a test: clone it)."""
        return self._url

    def clone(self) -> str:
        """The URL of a new database with the template's schema and rows."""
        return self._scratch.create(copy_of=self._url)

    def drop(self, url: str) -> None:
        """Remove a clone."""
        if url == self._url:
            raise ValueError("refusing to drop the template itself; close() does")
        self._scratch.drop(url)

    def close(self) -> None:
        """Remove the template and any clone left."""
        self._scratch.close()
