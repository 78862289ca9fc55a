"""A fresh database per test, cloned from one migrated template.

The template gets every service's migrations once; each `clone()` is then a copy of it:
on PostgreSQL `CREATE DATABASE … TEMPLATE` on the run's server, on SQLite a copy of the
file. PostgreSQL clones are named after the run's database (`<run database>_<suffix>`),
so they are the run's: dropped after their test, and by `services.down` if a test crashed
before it could.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from harness import databases
from harness.config import HarnessConfig
from harness.migrations import migrate_all
from harness.state import DatabaseRecord


class DatabaseTemplate(Protocol):
    """A migrated database that hands out copies of itself."""

    def clone(self) -> str:
        """The SQLAlchemy URL of a new database with the template's schema and rows."""
        ...

    def drop(self, url: str) -> None:
        """Remove a clone this template made."""
        ...

    def close(self) -> None:
        """Remove the template itself."""
        ...


class SQLiteTemplate:
    """A migrated SQLite file in `directory`; clones are copies beside it."""

    def __init__(self, config: HarnessConfig, directory: Path) -> None:
        self._directory = directory
        self._path = directory / "template.sqlite3"
        self._numbers = itertools.count(1)
        migrate_all(config, f"sqlite:///{self._path}")

    def clone(self) -> str:
        path = self._directory / f"clone-{next(self._numbers)}.sqlite3"
        shutil.copyfile(self._path, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def close(self) -> None:
        self._path.unlink(missing_ok=True)


class PostgresTemplate:
    """A migrated database on the run's server; clones are `CREATE DATABASE … TEMPLATE` it.

    `worker` (an xdist worker id, or "m") keeps parallel workers' names apart.
    """

    def __init__(self, config: HarnessConfig, record: DatabaseRecord, worker: str) -> None:
        self._config = config
        self._record = record
        self._conninfo = databases.admin_conninfo(record)
        self._prefix = f"{record.name}_{re.sub(r'[^a-z0-9]', '', worker.lower())[:4]}"
        self._template = f"{self._prefix}t"
        self._numbers = itertools.count(1)
        self._where = f"the run's server ({record.display_url})"
        databases.create_database(self._conninfo, self._template, self._where)
        try:
            migrate_all(config, self._url(self._template))
            # an env.py that leaves its pool open would make every clone fail
            databases.end_sessions(self._conninfo, self._template)
        except BaseException:
            databases.drop_database(self._conninfo, self._template)
            raise

    def clone(self) -> str:
        name = f"{self._prefix}c{next(self._numbers)}"
        databases.create_database(self._conninfo, name, self._where, template=self._template)
        return self._url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database or ""
        if not name.startswith(self._prefix):
            raise ValueError(f"refusing to drop {name!r}: not a clone this template made")
        databases.drop_database(self._conninfo, name)

    def close(self) -> None:
        databases.drop_database(self._conninfo, self._template)

    def _url(self, name: str) -> str:
        return databases.service_url(self._record, self._config, name)


def template_for(
    config: HarnessConfig, record: DatabaseRecord, worker: str, directory: Path
) -> DatabaseTemplate:
    """The template for the run's back end: SQLite files in `directory`, or PostgreSQL."""
    if record.backend == "sqlite":
        return SQLiteTemplate(config, directory)
    return PostgresTemplate(config, record, worker)
