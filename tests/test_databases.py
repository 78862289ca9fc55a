"""Back ends for real: SQLite files, throwaway PostgreSQL clusters, a server given by URL."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from conftest import app_command, assert_nothing_left
from harness import pgcluster
from harness.databases import NAME_ROOM, POSTGRES_URL_VARIABLE, database_name, mask_url
from harness.exceptions import BackendUnavailableError
from harness.ports import is_port_free
from harness.stack import Stack


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


def test_sqlite_database_is_a_file_in_the_run_directory_removed_at_down(db_config):
    stack = Stack(db_config(), "lite")
    state = stack.up("sqlite", auto_ports=True)
    path = stack.run.path / "database.sqlite3"
    assert state.database.name == str(path)

    assert stack.down().ok
    assert not path.exists()


def test_throwaway_cluster_serves_the_run_database_and_goes_away(db_config, no_server_url):
    stack = Stack(db_config(), "cluster")
    state = stack.up("postgres", auto_ports=True)
    database = state.database
    try:
        assert database.name.startswith("harness_cluster_")
        assert database.cluster is not None and database.cluster.matches()
        with psycopg.connect(
            host="127.0.0.1", port=database.cluster_port, user="postgres", dbname=database.name
        ) as connection:
            settings = dict(
                connection.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses')"
                ).fetchall()
            )
        assert settings == {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "listen_addresses": "127.0.0.1",
        }
    finally:
        assert stack.down().ok
    assert_nothing_left(state)
    assert is_port_free(database.cluster_port)
    assert not Path(database.cluster_data_dir).exists()


def test_server_url_gets_a_run_database_and_only_that_one_is_dropped(
    db_config, server, monkeypatch
):
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("CREATE DATABASE precious")
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    stack = Stack(db_config(), "on-server")
    state = stack.up("postgres", auto_ports=True)
    try:
        assert state.database.cluster is None
        assert "s3cret" not in state.database.display_url
        assert "s3cret" not in stack.run.state_path.read_text()
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
