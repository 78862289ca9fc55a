"""Database back ends: provision a database for a run, and take it away again.

- sqlite: a file in the run directory.
- postgres: a database named for the run on the server in HARNESS_POSTGRES_URL, or on a
  throwaway cluster from the local binaries (`harness.db._pgcluster`).

A PostgreSQL database is only ever dropped when the run's ledger (`CreatedDatabases`)
recorded it, which happens only after its CREATE succeeded: a database that merely has a
name like the run's, or that existed before a CREATE failed, is never touched. Its name
always starts with `harness_` and carries the run id.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

from harness import infra
from harness.config import HarnessConfig
from harness.db import _pgcluster as pgcluster
from harness.exceptions import BackendUnavailableError, RunStateError
from harness.infra import CreatedDatabases, DatabaseRecord, RunDirectory

if TYPE_CHECKING:  # the driver is imported where it connects: a SQLite run never loads it
    import psycopg
from harness.infra import mask_secrets as mask_url
from harness.settings import POSTGRES_URL_VARIABLE

SQLITE_FILE = "database.sqlite3"


NAME_LIMIT = 63  # PostgreSQL's
NAME_ROOM = 12  # characters left after a run's database name for the databases cloned from it


def database_name(run_id: str, token: str) -> str:
    """`harness_<run>_<token>`, lower case, with NAME_ROOM characters to spare under
    PostgreSQL's limit for the `<name>_<suffix>` databases cloned from it."""
    slug = re.sub(r"[^a-z0-9]+", "_", run_id.lower()).strip("_")
    slug_room = NAME_LIMIT - NAME_ROOM - len("harness__") - 8
    return f"harness_{slug[:slug_room]}_{token[:8]}"


def provision(
    backend: str,
    config: HarnessConfig,
    run: RunDirectory,
    token: str,
    env: dict[str, str],
    free_port: Callable[[], int],
    record: Callable[[DatabaseRecord], None],
) -> DatabaseRecord:
    """Create this run's database; its URL is `service_url(record, config)`.

    `record` is called before anything is created, and again as details are learned, so
    that a crash at any point leaves a state file from which cleanup can finish the job.
    """
    if backend == "sqlite":
        directory = infra.tmpfs_directory(f"harness-{run.run_id}-", infra.SQLITE_ROOM)
        if directory is not None:
            run.data_dir_path.write_text(str(directory))  # for a salvage
        path = (directory or run.path) / SQLITE_FILE
        database = DatabaseRecord(
            backend="sqlite",
            name=str(path),
            display_url=f"sqlite:///{path}",
            data_dir=str(directory) if directory else None,
        )
        record(database)
        return database
    database = DatabaseRecord(
        "postgres",
        database_name(run.run_id, token),
        "",
        ledger=str(run.created_databases.directory),
    )
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if server_url:
        _provision_on_server(database, server_url, config, record)
    else:
        _provision_on_cluster(database, config, run, env, free_port, record)
    return database


def _provision_on_server(
    database: DatabaseRecord,
    server_url: str,
    config: HarnessConfig,
    record: Callable[[DatabaseRecord], None],
) -> None:
    admin = _parse_server_url(server_url)
    database.display_url = mask_url(service_url(database, config))
    record(database)
    create_database(
        libpq_conninfo(admin), database.name, mask_url(server_url), ledger=run_ledger(database)
    )


def _provision_on_cluster(
    database: DatabaseRecord,
    config: HarnessConfig,
    run: RunDirectory,
    env: dict[str, str],
    free_port: Callable[[], int],
    record: Callable[[DatabaseRecord], None],
) -> None:
    binaries = pgcluster.find_binaries(config.postgres.bin_dir)

    def remember_cluster(cluster: pgcluster.Cluster) -> None:
        database.cluster = cluster.process
        database.data_dir = str(cluster.data_root)
        database.cluster_port = cluster.port
        database.display_url = mask_url(service_url(database, config))
        run.data_dir_path.write_text(str(cluster.data_root))  # for a salvage
        record(database)

    cluster = pgcluster.start_cluster(
        binaries,
        config.run_dir / "postgres",
        run.path,
        run.logs / "postgres.log",
        free_port(),
        env,
        remember_cluster,
    )
    create_database(
        cluster.admin_conninfo(),
        database.name,
        "the throwaway cluster",
        ledger=run_ledger(database),
    )


def run_ledger(record: DatabaseRecord) -> CreatedDatabases | None:
    """The ledger of the databases the run created (None in a state from before ledgers)."""
    return CreatedDatabases(Path(record.ledger)) if record.ledger else None


def service_url(record: DatabaseRecord, config: HarnessConfig, name: str | None = None) -> str:
    """The SQLAlchemy URL services get as DATABASE_URL (with the password); with `name`, the
    URL of that other database on the same PostgreSQL server."""
    if record.backend == "sqlite":
        return f"sqlite:///{record.name}"
    return (
        _server_url(record)
        .set(database=name or record.name, drivername=config.postgres.driver)
        .render_as_string(hide_password=False)
    )


def admin_conninfo(record: DatabaseRecord) -> str:
    """libpq connection string to the `postgres` database of the run's server."""
    return libpq_conninfo(_server_url(record).set(database="postgres"))


def _server_url(record: DatabaseRecord) -> URL:
    if record.cluster_port is not None:
        return URL.create(
            "postgresql",
            username=pgcluster.SUPERUSER,
            password=pgcluster.read_secret(Path(record.data_dir or "")),
            host="127.0.0.1",
            port=record.cluster_port,
            database=record.name,
        )
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        raise RunStateError(
            f"database {record.name!r} is on the server in {POSTGRES_URL_VARIABLE}, which "
            "is not set in this shell; set it to the server the run used"
        )
    return _parse_server_url(server_url).set(database=record.name)


@dataclass(frozen=True)
class DatabaseActivity:
    """What PostgreSQL's statistics say clients did on a database."""

    connections: int  # open now
    transactions: int  # committed and rolled back since the statistics began


def activity(record: DatabaseRecord) -> DatabaseActivity | None:
    """The run database's activity, asked on the server's `postgres` database (so the
    asking adds none); None on SQLite, which keeps no such statistics."""
    if record.backend != "postgres":
        return None
    with admin_connection(admin_conninfo(record), record.display_url) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = %(name)s), "
            "xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %(name)s",
            {"name": record.name},
        ).fetchone()
    return DatabaseActivity(int(row[0]), int(row[1])) if row else None


def never_used(record: DatabaseRecord, at_down: DatabaseActivity | None) -> bool:
    """True when no client worked on the run's database since the services started: none
    connected at `down` and no transaction was counted since `transactions_at_start`."""
    if at_down is None or record.transactions_at_start is None:
        return False
    if at_down.connections or at_down.transactions != record.transactions_at_start:
        return False  # used already: no need to ask again
    try:
        after = activity(record)
    except BackendUnavailableError:
        return False
    return after is not None and after.transactions == record.transactions_at_start


def remove_sqlite_file(path: Path) -> None:
    """Remove a SQLite database with its write-ahead log, shared-memory and journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def remove_data_dir(directory: Path) -> None:
    """Delete a directory harness made for a database's files (only ever one named so)."""
    if directory.name.startswith("harness-"):
        shutil.rmtree(directory, ignore_errors=True)


def release(record: DatabaseRecord) -> None:
    """Drop what the run created (or stop its throwaway cluster, and so all of it).

    Each database leaves the ledger only once dropped: when the server cannot be reached
    this raises with the rest still recorded, for a later `services.down` to finish.
    """
    if record.backend == "sqlite":
        remove_sqlite_file(Path(record.name))
        remove_data_dir(Path(record.data_dir or ""))
        return
    if record.cluster is not None:
        pgcluster.stop_cluster(record.cluster)
        remove_data_dir(Path(record.data_dir or ""))
        return
    ledger = run_ledger(record)
    owed = ledger.names() if ledger else []
    if not owed:
        return
    assert ledger is not None
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        raise RunStateError(
            f"cannot drop database(s) {owed} yet: {POSTGRES_URL_VARIABLE} is not set in this "
            "shell; the run keeps them recorded: set it to the server the run used and run "
            "services.down again"
        )
    conninfo = libpq_conninfo(_parse_server_url(server_url))
    for name in owed:
        if not name.startswith("harness_"):
            raise RunStateError(f"refusing to drop {name!r}: not a name harness gives")
        try:
            drop_database(conninfo, name)
        except BackendUnavailableError as exc:
            raise BackendUnavailableError(
                f"cannot drop database(s) {ledger.names()} yet: {exc}; the run keeps them "
                "recorded: run services.down again once the server is back"
            ) from None
        ledger.discard(name)


def _parse_server_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except Exception:
        raise BackendUnavailableError(
            f"{POSTGRES_URL_VARIABLE}={mask_url(url)!r} is not a URL; "
            "expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if not parsed.drivername.startswith("postgres"):
        raise BackendUnavailableError(
            f"{POSTGRES_URL_VARIABLE}={mask_url(url)!r} is not a PostgreSQL URL"
        )
    return parsed.set(database=parsed.database or "postgres")


def libpq_conninfo(url: URL) -> str:
    """libpq connection string for psycopg from an SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def admin_connection(conninfo: str, where: str) -> psycopg.Connection:
    """An autocommit connection for CREATE and DROP DATABASE; one-line error when the
    server cannot be reached."""
    import psycopg

    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = mask_url(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
        raise BackendUnavailableError(
            f"cannot connect to PostgreSQL at {where}: {message}; check the server is up and "
            f"{POSTGRES_URL_VARIABLE} is right"
        ) from None


def create_database(
    conninfo: str,
    name: str,
    where: str,
    template: str | None = None,
    ledger: CreatedDatabases | None = None,
) -> None:
    """CREATE DATABASE `name` (a copy of `template` when given) on a connection of its own."""
    with admin_connection(conninfo, where) as connection:
        create_on(connection, name, where, template, ledger)


def create_on(
    connection: psycopg.Connection,
    name: str,
    where: str,
    template: str | None = None,
    ledger: CreatedDatabases | None = None,
    strategy: str | None = None,
) -> None:
    """CREATE DATABASE `name` (a copy of `template` when given, with `strategy`) on an open
    admin `connection`; one-line error on failure.

    Only once it succeeded is `name` written to `ledger`: a name already taken stays its
    owner's.
    """
    import psycopg
    from psycopg import sql

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    if strategy is not None:
        statement += sql.SQL(" STRATEGY {}").format(sql.SQL(strategy))
    try:
        connection.execute(statement)
    except psycopg.Error as exc:
        hint = (
            "; the user needs the CREATEDB privilege"
            if isinstance(exc, psycopg.errors.InsufficientPrivilege)
            else ""
        )
        raise BackendUnavailableError(
            f"cannot create database {name!r} at {where}: {str(exc).strip()}{hint}"
        ) from None
    if ledger is not None:
        ledger.add(name)


def copy_strategy(record: DatabaseRecord, connection: psycopg.Connection) -> str | None:
    """The cheapest way to copy a small template on the run's server: FILE_COPY on the
    throwaway cluster of PostgreSQL 15 and later (durability off on tmpfs, so the
    checkpoint it costs is nearly free: 5 ms against 7 ms for WAL_LOG, measured); the
    server's default anywhere else (a real server's checkpoint is not free)."""
    if record.cluster is not None and connection.info.server_version >= 150000:
        return "FILE_COPY"
    return None


def end_sessions_on(connection: psycopg.Connection, name: str) -> None:
    """End every session on database `name`: one that is to be cloned or dropped must have
    none."""
    connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def drop_database(conninfo: str, name: str) -> None:
    """Drop database `name` on a connection of its own."""
    with admin_connection(conninfo, mask_url(conninfo)) as connection:
        drop_on(connection, name)


def drop_on(connection: psycopg.Connection, name: str) -> None:
    """Disallow connections, end the ones left, drop; on an open admin `connection`."""
    from psycopg import sql

    exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        return
    identifier = sql.Identifier(name)
    connection.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(identifier))
    end_sessions_on(connection, name)
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))
