"""Migrated databases kept from run to run: an `up` whose migrations have not changed
copies the database they made last time instead of running them again.

A copy is keyed by what the migrations read: every file of each history's script directory
(its revisions, env.py, alembic.ini) and every module of the project loaded once they had
run (what env.py imports: models, helpers), each by its content, with the Python, Alembic
and SQLAlchemy versions and the histories in their order. The first `up` after any of them
changes runs the migrations and keeps what they made in `<run_dir>/migrated/<back end>/`
(SQLite: the database file; PostgreSQL: pg_dump's SQL of the database, restored in one
transaction, so a dump the server refuses leaves nothing and the migrations run); a failed
migration keeps nothing. Migrations that read anything else (an environment variable, the
clock, a data file outside the script directory, a role or setting outside the database)
would be copied as they first ran: `migration_cache = false` in [tool.harness] runs them
every time. The migration checks never use a copy.

Alembic is imported only when the migrations run: a copy needs none of it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from harness.config import HarnessConfig, ServiceConfig, script_location

CACHE_DIR = "migrated"
KEPT = 16  # copies kept per back end, the newest: a few branches' and configs' worth
_RESTRICT = re.compile(rb"^\\restrict (\S+)$", re.MULTILINE)


def migrate_all(config: HarnessConfig, url: str) -> bool:
    """Apply every service's history to the database at `url`, in config order; first
    copy the database they made last time when nothing they read has changed. Whether it
    was such a copy."""
    histories = [service for service in config.services.values() if service.migrations]
    if not histories:
        return False
    copies = _copies(config, url) if config.migration_cache else None
    if copies is not None and _restored(copies, histories):
        return True
    from harness.db._alembic import apply_histories  # here: a copy needs no Alembic

    apply_histories(config, url)
    if copies is not None:
        _keep(copies, histories, config.root)
    return False


class _Copies(Protocol):
    """Copies of one database kept in `folder` as `<key><suffix>`."""

    folder: Path
    suffix: str

    def save(self, target: Path) -> bool:
        """Copy the database into `target`; whether it could."""

    def load(self, source: Path) -> bool:
        """Make the database a copy of `source`; whether it could (if not, it is unchanged)."""


def _copies(config: HarnessConfig, url: str) -> _Copies | None:
    """How the database at `url` is kept and copied; None where it cannot be."""
    cache = config.run_dir / CACHE_DIR
    if url.startswith("sqlite:///"):
        return _SQLiteCopies(cache / "sqlite", Path(url.removeprefix("sqlite:///")))
    if url.startswith("postgresql"):
        return _PostgresCopies.find(cache, url, config.postgres.bin_dir)
    return None


def _restored(copies: _Copies, histories: list[ServiceConfig]) -> bool:
    """Whether a kept copy whose inputs are all unchanged was copied into the database."""
    read = functools.cache(_content)  # each file once, however many manifests name it
    for manifest in sorted(copies.folder.glob("*.json"), key=_age):
        try:
            files = [Path(name) for name in json.loads(manifest.read_text())["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half written by a run beside this one, or by an older harness
        key = _key(histories, files, read)
        if key is None or manifest.stem != key:
            continue
        if not copies.load(copies.folder / f"{key}{copies.suffix}"):
            continue  # pruned meanwhile by a run beside this one, or refused
        os.utime(manifest)  # the newest, kept longest
        return True
    return False


def _keep(copies: _Copies, histories: list[ServiceConfig], root: Path) -> None:
    """Keep the database, just migrated, under the key of what the migrations read; only
    the newest KEPT copies stay."""
    files = _project_modules(root)
    key = _key(histories, files)
    if key is None:
        return
    copies.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=copies.folder) as scratch:
        if not copies.save(Path(scratch) / "copy"):
            return
        os.replace(Path(scratch) / "copy", copies.folder / f"{key}{copies.suffix}")
        (Path(scratch) / "manifest").write_text(json.dumps({"files": [str(f) for f in files]}))
        os.replace(Path(scratch) / "manifest", copies.folder / f"{key}.json")
    for manifest in sorted(copies.folder.glob("*.json"), key=_age)[KEPT:]:
        manifest.unlink(missing_ok=True)
        manifest.with_suffix(copies.suffix).unlink(missing_ok=True)


class _SQLiteCopies:
    """The database file, copied by SQLite's own backup API."""

    suffix = ".sqlite3"

    def __init__(self, folder: Path, path: Path) -> None:
        self.folder = folder
        self.path = path

    def save(self, target: Path) -> bool:
        _copy(self.path, target)
        return True

    def load(self, source: Path) -> bool:
        try:
            _copy(source, self.path)
        except (OSError, sqlite3.Error):
            self.path.unlink(missing_ok=True)
            return False
        return True


class _PostgresCopies:
    """pg_dump's SQL of the database (no owners, no grants: the run's user makes it all
    again), restored on one connection in one transaction."""

    suffix = ".sql"

    def __init__(self, folder: Path, url: str, pg_dump: Path) -> None:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        from sqlalchemy.engine import make_url

        from harness.db._databases import libpq_conninfo

        self.folder = folder
        self.pg_dump = pg_dump
        self.conninfo = libpq_conninfo(make_url(url))
        settings = conninfo_to_dict(self.conninfo)
        self.password = str(settings.pop("password", ""))  # for pg_dump's environment
        self.without_password = make_conninfo("", **settings)  # pg_dump's command line

    @classmethod
    def find(cls, cache: Path, url: str, bin_dir: Path | None) -> _PostgresCopies | None:
        """Copies by the pg_dump of the PostgreSQL installation harness runs; None without one."""
        from harness.db import _pgcluster as pgcluster
        from harness.exceptions import BackendUnavailableError

        try:
            binaries = pgcluster.find_binaries(bin_dir)
        except BackendUnavailableError:
            return None  # a server from HARNESS_POSTGRES_URL, no binaries here: migrate
        pg_dump = binaries.bin_dir / "pg_dump"
        if not os.access(pg_dump, os.X_OK):
            return None
        return cls(cache / f"postgres-{binaries.version}", url, pg_dump)

    def save(self, target: Path) -> bool:
        command = [
            str(self.pg_dump),
            "--no-owner",
            "--no-privileges",
            "--rows-per-insert=1000",  # INSERTs, which one connection can run (COPY needs psql)
            f"--file={target}",
            f"--dbname={self.without_password}",
        ]
        environment = {**os.environ, "PGPASSWORD": self.password}
        dumped = subprocess.run(command, env=environment, capture_output=True, check=False)
        if dumped.returncode != 0:
            return False  # a server this pg_dump cannot read: nothing kept
        target.write_bytes(_without_psql_commands(target.read_bytes()))
        return True

    def load(self, source: Path) -> bool:
        import psycopg

        try:
            script = source.read_bytes()
        except OSError:
            return False
        try:
            with psycopg.connect(self.conninfo) as connection:  # one transaction: all or none
                connection.execute(script)  # no parameters: many statements in one message
        except psycopg.Error:
            return False
        return True


def _without_psql_commands(dump: bytes) -> bytes:
    """The dump without the `\\restrict KEY` and `\\unrestrict KEY` lines around it (pg_dump
    since 15.14), which only psql reads; the key is random, so no row's text is taken."""
    found = _RESTRICT.search(dump)
    if found is None:
        return dump
    lines = {b"\\restrict " + found[1], b"\\unrestrict " + found[1]}
    return b"".join(line for line in dump.splitlines(keepends=True) if line.rstrip() not in lines)


def _content(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


def _key(
    histories: list[ServiceConfig],
    modules: list[Path],
    read: Callable[[Path], bytes | None] = _content,
) -> str | None:
    """The digest of the migrations' inputs (each file's content as `read` gives it); None
    when one of `modules` is gone."""
    digest = hashlib.sha256()
    versions = [sys.version, *(_version(name) for name in ("alembic", "sqlalchemy"))]
    digest.update(repr((versions, [(s.name, str(s.migrations)) for s in histories])).encode())
    scripts = [file for service in histories for file in _script_files(service)]
    for file in sorted({*scripts, *modules}):
        content = read(file)
        if content is None:
            return None
        digest.update(f"\0{file}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:32]


def _script_files(service: ServiceConfig) -> list[Path]:
    """Every file of the service's history: its script directory's (bytecode aside), and
    the alembic.ini `migrations` names."""
    assert service.migrations is not None
    directory = script_location(service.migrations)
    files = [service.migrations] if service.migrations.is_file() else []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        files += [Path(folder, name) for name in names]
    return files


def _project_modules(root: Path) -> list[Path]:
    """The source files of the modules loaded from the project (not from an environment
    inside it, a dot-directory or site-packages)."""
    root = root.resolve()
    files = set()
    for module in list(sys.modules.values()):
        location = getattr(module, "__file__", None)
        if not location:
            continue
        file = Path(location).resolve()
        if root in file.parents:
            inside = file.relative_to(root).parts
            if not any(part.startswith(".") or part == "site-packages" for part in inside):
                files.add(file)
    return sorted(files)


def _copy(source: Path, target: Path) -> None:
    """SQLite's own copy (its backup API) of the database at `source` into `target`."""
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _age(manifest: Path) -> float:
    """Newest first."""
    try:
        return -manifest.stat().st_mtime
    except FileNotFoundError:
        return 0.0
