"""Database back ends: provision a database for a run, and take it away again.

- sqlite: a file in the run directory.
- postgres: a database named for the run on the server in HARNESS_POSTGRES_URL, or on a
  throwaway cluster from the local binaries (`harness.pgcluster`).

A database is only ever dropped when the run's state file recorded it as created by
harness; its name always starts with `harness_` and carries the run id.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from harness import pgcluster
from harness.config import HarnessConfig
from harness.exceptions import BackendUnavailableError, RunStateError
from harness.masking import mask_secrets as mask_url
from harness.state import DatabaseRecord, RunDirectory

POSTGRES_URL_VARIABLE = "HARNESS_POSTGRES_URL"
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
        path = run.path / SQLITE_FILE
        database = DatabaseRecord(backend="sqlite", name=str(path), display_url=f"sqlite:///{path}")
        record(database)
        return database
    database = DatabaseRecord("postgres", database_name(run.run_id, token), "")
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
    create_database(_conninfo(admin), database.name, where=mask_url(server_url))


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
        database.cluster_data_dir = str(cluster.data_root)
        database.cluster_port = cluster.port
        database.display_url = mask_url(service_url(database, config))
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
    create_database(cluster.admin_conninfo(), database.name, where="the throwaway cluster")


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
    return _conninfo(_server_url(record).set(database="postgres"))


def _server_url(record: DatabaseRecord) -> URL:
    if record.cluster_port is not None:
        return URL.create(
            "postgresql",
            username=pgcluster.SUPERUSER,
            password=pgcluster.read_secret(Path(record.cluster_data_dir or "")),
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


def remove_sqlite_file(path: Path) -> None:
    """Remove a SQLite database with its write-ahead log, shared-memory and journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def release(record: DatabaseRecord, config: HarnessConfig) -> None:
    """Drop the run's database (or stop its throwaway cluster); only what harness made."""
    if record.backend == "sqlite":
        remove_sqlite_file(Path(record.name))
        return
    if not record.name.startswith("harness_"):
        raise RunStateError(f"refusing to drop {record.name!r}: not a database harness created")
    if record.cluster is not None:
        pgcluster.stop_cluster(record.cluster, Path(record.cluster_data_dir or ""))
        return
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        raise RunStateError(
            f"cannot drop database {record.name!r}: {POSTGRES_URL_VARIABLE} is not set in this "
            "shell; set it to the server the run used and run services.down again"
        )
    conninfo = _conninfo(_parse_server_url(server_url))
    for name in [record.name, *_clones_of(conninfo, record.name)]:
        drop_database(conninfo, name)


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


def _conninfo(url: URL) -> str:
    """libpq connection string for psycopg from an SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_connection(conninfo: str, where: str) -> psycopg.Connection:
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = mask_url(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
        raise BackendUnavailableError(
            f"cannot connect to PostgreSQL at {where}: {message}; check the server is up and "
            f"{POSTGRES_URL_VARIABLE} is right"
        ) from None


def _clones_of(conninfo: str, name: str) -> list[str]:
    """Databases cloned from the run's (`<name>_...`) that a crashed test left behind."""
    with _admin_connection(conninfo, mask_url(conninfo)) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (f"{name}_",)
        ).fetchall()
    return [row[0] for row in rows]


def create_database(conninfo: str, name: str, where: str, template: str | None = None) -> None:
    """CREATE DATABASE `name` (a copy of `template` when given); one-line error on failure."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin_connection(conninfo, where) as connection:
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


def end_sessions(conninfo: str, name: str) -> None:
    """End every session on database `name`: one that is to be cloned or dropped must have none."""
    with _admin_connection(conninfo, mask_url(conninfo)) as connection:
        _terminate_backends(connection, name)


def _terminate_backends(connection: psycopg.Connection, name: str) -> None:
    connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def drop_database(conninfo: str, name: str) -> None:
    """Disallow connections, end the ones left, drop."""
    with _admin_connection(conninfo, mask_url(conninfo)) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            return
        identifier = sql.Identifier(name)
        connection.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(identifier)
        )
        _terminate_backends(connection, name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))
