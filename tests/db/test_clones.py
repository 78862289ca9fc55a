"""harness.db._clones: per-test databases copied from a migrated template, on real back ends."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import app_command
from harness.db import _clones as clones
from harness.db import _databases as databases
from harness.db._clones import DatabaseTemplate, PostgresScratch, SQLiteScratch
from harness.exceptions import BackendUnavailableError
from harness.infra import _tmpfs as tmpfs
from harness.infra._processes import ProcessRecord
from harness.infra._state import DatabaseRecord
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack._stack import Stack

HISTORY = Path(__file__).parents[1] / "fixtures" / "history"


@pytest.fixture
def config(make_config):
    return make_config(
        {"api": {"command": app_command(), "database": True, "migrations": str(HISTORY)}}
    )


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def insert_widget(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO widgets DEFAULT VALUES"))
            return connection.scalar(text("SELECT count(*) FROM widgets"))
    finally:
        engine.dispose()


def test_sqlite_clones_are_migrated_and_independent(config, tmp_path):
    template = DatabaseTemplate(config, SQLiteScratch(tmp_path))
    first, second = template.clone(), template.clone()

    assert tables(first) >= {"widgets", "widgets_version"}
    assert insert_widget(first) == 1
    assert insert_widget(second) == 1  # the first clone's row is not here

    template.drop(first)
    assert not Path(first.removeprefix("sqlite:///")).exists()
    with pytest.raises(ValueError, match="not a database this object made"):
        template.drop(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    template.close()
    assert [p for p in tmp_path.iterdir() if p != config.run_dir] == []  # run_dir: pycache


def test_postgres_clones_belong_to_the_run_and_down_drops_the_ones_left(
    config, server, monkeypatch
):
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("CREATE DATABASE keep_me")
    before = _databases(server)
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    stack = Stack(config, "clones")
    state = stack.up("postgres", auto_ports=True)
    try:
        template = DatabaseTemplate(config, PostgresScratch(config, state.database, tag="gw1"))
        dropped, left = template.clone(), template.clone()
        assert tables(dropped) >= {"widgets", "widgets_version"}
        assert insert_widget(dropped) == 1
        assert insert_widget(left) == 1
        template.drop(dropped)
        with pytest.raises(ValueError, match="not a database this object made"):
            template.drop(server.rsplit("/", 1)[0] + "/keep_me")
        made = _databases(server) - before
        assert left.rsplit("/", 1)[1] in made
        assert dropped.rsplit("/", 1)[1] not in made
        assert all(name.startswith(state.database.name) for name in made)
    finally:
        assert stack.down().ok  # no template.close(): down finds what is left
    assert _databases(server) == before


def _databases(server: str) -> set[str]:
    with psycopg.connect(server, autocommit=True) as admin:
        return {row[0] for row in admin.execute("SELECT datname FROM pg_database")}


def test_a_clone_whose_name_is_taken_is_never_dropped_by_close(config, server, monkeypatch):
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    stack = Stack(config, "clone-taken")
    state = stack.up("postgres", auto_ports=True)
    scratch = PostgresScratch(config, state.database, tag="t")
    taken = f"{state.database.name}_td1"  # the name the scratch's first database gets
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {taken}")
    try:
        with pytest.raises(BackendUnavailableError, match="already exists"):
            scratch.create()
        scratch.close()
        assert taken in _databases(server)
    finally:
        assert stack.down().ok
    assert taken in _databases(server)  # down drops only what the run recorded creating
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {taken}")


def test_scratch_on_tmpfs_is_a_directory_of_its_own_that_close_removes(tmp_path, monkeypatch):
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(tmpfs, "TMPFS", shm)
    scratch = SQLiteScratch.on_tmpfs(tmp_path / "fallback")

    url = scratch.create()
    with create_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    copy = scratch.create(copy_of=url)

    (directory,) = shm.iterdir()
    assert {path.name for path in directory.iterdir()} == {"db-1.sqlite3", "db-2.sqlite3"}
    assert "t" in inspect(create_engine(copy)).get_table_names()
    scratch.close()
    assert list(shm.iterdir()) == []


def test_scratch_falls_back_to_the_given_directory_when_tmpfs_lacks_room(tmp_path, monkeypatch):
    monkeypatch.setattr(clones, "TMPFS_ROOM", 2**62)
    scratch = SQLiteScratch.on_tmpfs(tmp_path)

    url = scratch.create()

    assert url == f"sqlite:///{tmp_path / 'db-1.sqlite3'}"
    scratch.close()
    assert tmp_path.is_dir()


def _admin_sessions(conninfo: str) -> set[int]:
    """Backends on the `postgres` database of the server, the asking one aside."""
    with psycopg.connect(conninfo, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = 'postgres' "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return {row[0] for row in rows}


def test_clones_are_made_and_dropped_on_one_admin_session_that_close_ends(config, no_server_url):
    stack = Stack(config, "one-session")
    state = stack.up("postgres", auto_ports=True)
    try:
        conninfo = databases.admin_conninfo(state.database)
        template = DatabaseTemplate(config, PostgresScratch(config, state.database, tag="s"))
        (session,) = _admin_sessions(conninfo)
        made = [template.clone() for _ in range(3)]
        template.drop(made[0])
        assert insert_widget(made[1]) == 1  # a real, migrated copy

        assert _admin_sessions(conninfo) == {session}  # the same one throughout
        template.close()
        assert _admin_sessions(conninfo) == set()
    finally:
        assert stack.down().ok


def test_the_copy_strategy_is_file_copy_only_on_the_throwaway_cluster(server):
    with psycopg.connect(server, autocommit=True) as connection:
        own = DatabaseRecord("postgres", "x", "", cluster=ProcessRecord(1, 0.0, ("postgres",)))
        assert databases.copy_strategy(own, connection) == "FILE_COPY"
        by_url = DatabaseRecord("postgres", "x", "")
        assert databases.copy_strategy(by_url, connection) is None  # a real server's default
