"""Back ends for real: SQLite files, throwaway PostgreSQL clusters, a server given by URL."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from conftest import app_command, assert_nothing_left
from harness.db import _pgcluster as pgcluster
from harness.db._databases import (
    NAME_ROOM,
    POSTGRES_URL_VARIABLE,
    database_name,
    mask_url,
    service_url,
)
from harness.exceptions import BackendUnavailableError
from harness.infra import _tmpfs as tmpfs
from harness.infra._ports import is_port_free
from harness.stack._stack import Stack


@pytest.fixture
def db_config(make_config):
    def make(**top):
        return make_config({"api": {"command": app_command(), "database": True}}, **top)

    return make


def test_mask_url_hides_only_the_password():
    assert mask_url("postgresql://app:p%40ss@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert mask_url("postgresql://app@db/x") == "postgresql://app@db/x"


def test_database_name_carries_the_run_id_and_fits_postgres_limits():
    name = database_name("Contracts-Postgres." + "x" * 80, "0123456789abcdef")

    assert name.startswith("harness_contracts_postgres_x")
    assert name.endswith("_01234567")
    assert len(name) + NAME_ROOM <= 63  # room for the clones' suffixes


def test_sqlite_database_is_a_file_in_the_run_directory_removed_at_down(db_config, monkeypatch):
    monkeypatch.setattr(tmpfs, "SQLITE_ROOM", 2**62)  # tmpfs has no room for it
    stack = Stack(db_config(), "lite")
    state = stack.up("sqlite", auto_ports=True)
    path = stack.run.path / "database.sqlite3"
    assert state.database.name == str(path)

    assert stack.down().ok
    assert not path.exists()


@pytest.fixture
def shm(tmp_path, monkeypatch):
    """A directory standing in for tmpfs."""
    directory = tmp_path / "shm"
    directory.mkdir()
    monkeypatch.setattr(tmpfs, "TMPFS", directory)
    return directory


def test_sqlite_database_goes_to_tmpfs_in_a_directory_of_its_own_removed_at_down(db_config, shm):
    stack = Stack(db_config(), "lite-shm")
    state = stack.up("sqlite", auto_ports=True)
    (directory,) = shm.iterdir()
    assert directory.name.startswith("harness-lite-shm-")
    assert state.database.name == str(directory / "database.sqlite3")
    assert state.database.data_dir == str(directory)

    assert stack.down().ok
    assert list(shm.iterdir()) == []
    assert not stack.run.path.exists()


def test_a_sqlite_run_on_tmpfs_with_an_unreadable_state_still_loses_its_file(db_config, shm):
    stack = Stack(db_config(), "lite-damaged")
    state = stack.up("sqlite", auto_ports=True)
    stack.run.state_path.write_text("{ not json")

    report = stack.down()

    assert report.ok, report.problems
    assert list(shm.iterdir()) == []
    assert_nothing_left(state)


def test_throwaway_cluster_serves_the_run_database_and_goes_away(db_config, no_server_url):
    stack = Stack(db_config(), "cluster")
    state = stack.up("postgres", auto_ports=True)
    database = state.database
    try:
        assert database.name.startswith("harness_cluster_")
        assert database.cluster is not None and database.cluster.matches()
        with psycopg.connect(_libpq(service_url(database, stack.config))) as connection:
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', "
                    "'synchronous_commit', 'full_page_writes', 'listen_addresses', "
                    "'dynamic_shared_memory_type')"
                ).fetchall()
            )
        assert settings == {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "listen_addresses": "127.0.0.1",
            "dynamic_shared_memory_type": "mmap",
        }
        # its shared memory is in its data directory, gone with it even after a SIGKILL
        assert any((Path(database.data_dir) / "data" / "pg_dynshmem").iterdir())
    finally:
        assert stack.down().ok
    assert_nothing_left(state)
    assert is_port_free(database.cluster_port)
    assert not Path(database.data_dir).exists()


def _libpq(url: str) -> str:
    """A service's SQLAlchemy URL as a libpq one (the same server, user and password)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _socket_dir(stack: Stack, port: int) -> Path:
    """Where the run's cluster put its Unix socket (the run directory, or beside its data)."""
    state = stack.run.load()
    assert state.database is not None and state.database.data_dir is not None
    for directory in (
        stack.run.path / "postgres-socket",
        Path(state.database.data_dir) / "socket",
    ):
        if (directory / f".s.PGSQL.{port}").exists():
            return directory
    raise AssertionError(f"no socket of port {port}")


def test_throwaway_cluster_refuses_every_connection_without_its_secret(db_config, no_server_url):
    stack = Stack(db_config(), "locked")
    state = stack.up("postgres", auto_ports=True)
    database = state.database
    assert database is not None and database.cluster_port is not None
    try:
        secret_file = pgcluster.secret_path(Path(database.data_dir or ""))
        secret = secret_file.read_text()
        socket_dir = _socket_dir(stack, database.cluster_port)
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
        assert secret not in stack.run.state_path.read_text()
        assert secret not in database.display_url
        without = {"port": database.cluster_port, "user": "postgres", "dbname": "postgres"}
        for host, password in [("127.0.0.1", ""), ("127.0.0.1", "guess"), (str(socket_dir), "")]:
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(host=host, password=password, connect_timeout=5, **without)
        env = httpx.get(state.services["api"].url + "/env").json()
        assert secret in env["DATABASE_URL"]  # what the service was given is what works
        with psycopg.connect(_libpq(env["DATABASE_URL"])) as connection:
            methods = connection.execute("SELECT DISTINCT auth_method FROM pg_hba_file_rules")
            assert [row[0] for row in methods] == ["scram-sha-256"]
    finally:
        assert stack.down().ok
    assert not secret_file.exists()


def _as_nobody(conninfo: str) -> subprocess.CompletedProcess[str]:
    """psql, run by another local account, trying `conninfo` with no password."""
    psql = pgcluster.find_binaries().bin_dir / "psql"
    return subprocess.run(
        [str(psql), "-w", "-X", "-At", "-c", "SELECT current_user", conninfo],
        capture_output=True,
        text=True,
        user="nobody",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        cwd="/",
        timeout=60,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another local account needs root")
def test_another_local_account_cannot_connect_to_the_cluster(db_config, no_server_url):
    pwd.getpwnam("nobody")
    stack = Stack(db_config(), "foreign")
    state = stack.up("postgres", auto_ports=True)
    database = state.database
    assert database is not None and database.cluster_port is not None
    try:
        port = database.cluster_port
        over_tcp = _as_nobody(f"host=127.0.0.1 port={port} user=postgres dbname=postgres")
        over_socket = _as_nobody(
            f"host={_socket_dir(stack, port)} port={port} user=postgres dbname=postgres"
        )
    finally:
        assert stack.down().ok
    assert over_tcp.returncode != 0 and "no password supplied" in over_tcp.stderr
    assert over_socket.returncode != 0 and "Permission denied" in over_socket.stderr


REFUSES_SINGLE_USER = """#!/bin/sh
case "$1" in --single) echo "FATAL:  single-user mode refused by the test" >&2; exit 1;; esac
exec {postgres} "$@"
"""


@pytest.fixture
def bin_dir_refusing_single_user() -> Iterator[Path]:
    """The real initdb, and a `postgres` that runs the real one but fails single-user mode;
    in a directory the cluster's user can reach (a root-only tmp_path is not)."""
    real = pgcluster.find_binaries()
    directory = Path(tempfile.mkdtemp(prefix="w-bin-", dir="/dev/shm"))
    try:
        os.chmod(directory, 0o755)
        (directory / "initdb").symlink_to(real.initdb)
        wrapper = directory / "postgres"
        wrapper.write_text(REFUSES_SINGLE_USER.format(postgres=real.postgres))
        wrapper.chmod(0o755)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_a_cluster_that_cannot_be_locked_down_is_one_error_and_leaves_nothing(
    db_config, no_server_url, bin_dir_refusing_single_user
):
    stack = Stack(db_config(postgres={"bin_dir": str(bin_dir_refusing_single_user)}), "nolock")

    with pytest.raises(BackendUnavailableError) as caught:
        stack.up("postgres", auto_ports=True)

    assert str(caught.value).startswith("could not set the throwaway cluster's password")
    assert "single-user mode refused by the test" in str(caught.value)
    assert not stack.run.path.exists()  # the data directory's fallback place, too
    assert glob.glob(str(tmpfs.TMPFS / "harness-nolock-*")) == []


def test_server_url_gets_a_run_database_and_only_that_one_is_dropped(
    db_config, server, monkeypatch
):
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("CREATE DATABASE precious")
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    password = make_url(server).password
    assert password
    stack = Stack(db_config(), "on-server")
    state = stack.up("postgres", auto_ports=True)
    try:
        assert state.database.cluster is None
        assert password not in state.database.display_url
        assert password not in stack.run.state_path.read_text()
        with psycopg.connect(server, autocommit=True) as admin:
            assert _databases(admin) >= {"precious", state.database.name}
    finally:
        assert stack.down().ok
    with psycopg.connect(server, autocommit=True) as admin:
        names = _databases(admin)
    assert "precious" in names
    assert state.database.name not in names


def _databases(connection: psycopg.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def test_no_binaries_and_no_url_is_one_clear_error(db_config, no_server_url, tmp_path):
    empty = tmp_path / "no-postgres-here"
    empty.mkdir()
    stack = Stack(db_config(postgres={"bin_dir": str(empty)}), "nopg")

    with pytest.raises(BackendUnavailableError) as caught:
        stack.up("postgres", auto_ports=True)

    message = str(caught.value)
    assert str(empty) in message
    assert POSTGRES_URL_VARIABLE in message
    assert "apt-get install postgresql" in message
    assert not stack.run.path.exists()


def test_unreachable_server_url_is_a_clear_error_with_the_password_masked(db_config, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv(
        POSTGRES_URL_VARIABLE, f"postgresql://app:hunter2@127.0.0.1:{closed_port}/postgres"
    )
    stack = Stack(db_config(), "unreachable")

    with pytest.raises(BackendUnavailableError) as caught:
        stack.up("postgres", auto_ports=True)

    message = str(caught.value)
    assert "cannot connect to PostgreSQL" in message
    assert "hunter2" not in message
    assert not stack.run.path.exists()


def test_a_url_that_is_not_postgres_is_rejected(db_config, monkeypatch):
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, "mysql://u:p@localhost/db")

    with pytest.raises(BackendUnavailableError, match="not a PostgreSQL URL"):
        Stack(db_config(), "mysql").up("postgres", auto_ports=True)


def test_find_binaries_reports_the_version():
    binaries = pgcluster.find_binaries()

    assert binaries.version.isdigit()
    assert binaries.initdb.exists() and binaries.postgres.exists()
