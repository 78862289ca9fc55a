"""Migrated databases kept from run to run, on SQLite and PostgreSQL: a copy while nothing
the migrations read has changed, a real migration as soon as something has."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import psycopg
import pytest

from conftest import app_command
from harness.config import parse_config
from harness.db import migrate_all
from harness.db._migrated import CACHE_DIR
from harness.db._pgcluster import find_binaries
from harness.exceptions import MigrationError

ENV_PY = """
from alembic import context

import helper  # a module of the project, as models are

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""
FIRST_REVISION = """
import uuid

import sqlalchemy as sa
from alembic import op

import helper

revision, down_revision = "0001", None


def upgrade():
    op.create_table("runs", sa.Column("token", sa.String(64)))
    token = f"{helper.PREFIX}-{uuid.uuid4()}"  # a new one each time the migration runs
    op.execute(sa.text("INSERT INTO runs VALUES (:token)").bindparams(token=token))


def downgrade():
    op.drop_table("runs")
"""


_TOKENS: set[str] = set()  # every token a migration stored in this module's tests


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one history whose migration stores a token of its own."""
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV_PY)
    (tmp_path / "migrations" / "versions" / "0001_runs.py").write_text(FIRST_REVISION)
    (tmp_path / "helper.py").write_text('PREFIX = "a"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "helper", raising=False)  # another test's project's
    return tmp_path


def _migrated_token(project: Path, number: int, server: str | None = None, **table: object) -> str:
    """Migrate a new database in `project` (its [tool.harness] extended by `table`), on
    SQLite or, given a `server`, on PostgreSQL; the token its migration stored (checked
    to be new when the migrations ran)."""
    service = {"command": app_command(), "database": True, "migrations": "migrations"}
    config = parse_config({"services": {"api": service}, **table}, root=project)
    if server is None:
        path = project / f"run{number}.sqlite3"
        copied = migrate_all(config, f"sqlite:///{path}")
        with sqlite3.connect(path) as connection:
            [(token,)] = connection.execute("SELECT token FROM runs").fetchall()
    else:
        url = _new_database(server, f"migrated_{number}")
        copied = migrate_all(config, url.replace("postgresql://", "postgresql+psycopg://"))
        with psycopg.connect(url) as connection:
            [(token,)] = connection.execute("SELECT token FROM runs").fetchall()
    assert copied == (token in _TOKENS), "a copy, and only a copy, repeats an earlier token"
    _TOKENS.add(token)
    return token


def _new_database(server: str, name: str) -> str:
    """The URL of a new, empty database `name` on `server`."""
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server.rsplit('/', 1)[0]}/{name}"


def test_unchanged_migrations_give_a_copy_of_what_they_made_last_time(project):
    first = _migrated_token(project, 1)

    assert _migrated_token(project, 2) == first
    assert _migrated_token(project, 3) == first


def test_a_changed_module_of_the_project_runs_the_migrations_again(project):
    first = _migrated_token(project, 1)
    (project / "helper.py").write_text('PREFIX = "b"\n')  # same size, same second

    assert _migrated_token(project, 2) != first


def test_a_changed_revision_runs_the_migrations_again(project):
    first = _migrated_token(project, 1)
    revision = project / "migrations" / "versions" / "0001_runs.py"
    revision.write_text(revision.read_text().replace("String(64)", "String(99)"))

    assert _migrated_token(project, 2) != first


def test_a_revision_added_to_the_history_runs_the_migrations_again(project):
    first = _migrated_token(project, 1)
    (project / "migrations" / "versions" / "0002_more.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        'revision, down_revision = "0002", "0001"\n\n\n'
        'def upgrade():\n    op.create_table("more", sa.Column("id", sa.Integer))\n\n\n'
        'def downgrade():\n    op.drop_table("more")\n'
    )

    assert _migrated_token(project, 2) != first
    with sqlite3.connect(project / "run2.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM more").fetchone() == (0,)


def test_migration_cache_false_runs_them_every_time(project):
    first = _migrated_token(project, 1, migration_cache=False)

    assert _migrated_token(project, 2, migration_cache=False) != first
    assert not (project / ".harness" / CACHE_DIR).exists()


def test_a_failed_migration_keeps_nothing_and_fails_again_next_time(project):
    revision = project / "migrations" / "versions" / "0001_runs.py"
    working = revision.read_text()
    revision.write_text(working.replace("def upgrade():\n", "def upgrade():\n    1 / 0\n"))

    for number in (1, 2):
        with pytest.raises(MigrationError, match="ZeroDivisionError"):
            _migrated_token(project, number)
    assert list((project / ".harness" / CACHE_DIR / "sqlite").glob("*.sqlite3")) == []

    revision.write_text(working)
    assert _migrated_token(project, 3) == _migrated_token(project, 4)


def test_a_copy_gone_since_its_manifest_was_read_is_migrated_anew(project):
    first = _migrated_token(project, 1)
    copies = list((project / ".harness" / CACHE_DIR / "sqlite").glob("*.sqlite3"))
    assert copies
    for copy in copies:
        copy.unlink()  # as a run beside this one pruning it would

    assert _migrated_token(project, 2) != first


def test_unchanged_migrations_on_postgres_give_a_restore_of_last_times_dump(project, server):
    first = _migrated_token(project, 1, server)

    assert _migrated_token(project, 2, server) == first
    [dump] = (project / ".harness" / CACHE_DIR).glob("postgres-*/*.sql")
    assert "INSERT INTO public.runs" in dump.read_text()


def test_a_dump_the_server_refuses_restores_nothing_and_the_migrations_run(project, server):
    first = _migrated_token(project, 1, server)
    [dump] = (project / ".harness" / CACHE_DIR).glob("postgres-*/*.sql")
    dump.write_text(dump.read_text() + "\nSELECT no_such_function();\n")

    second = _migrated_token(project, 2, server)  # one row: nothing half restored

    assert second != first
    assert _migrated_token(project, 3, server) == second  # kept anew by the real migration


def test_without_pg_dump_postgres_migrations_run_every_time(project, server, tmp_path):
    binaries = find_binaries()
    elsewhere = tmp_path / "bin"
    elsewhere.mkdir()
    for program in ("initdb", "postgres"):  # an installation without pg_dump
        (elsewhere / program).symlink_to(binaries.bin_dir / program)
    table = {"postgres": {"bin_dir": str(elsewhere)}}

    first = _migrated_token(project, 1, server, **table)

    assert _migrated_token(project, 2, server, **table) != first
    assert not (project / ".harness" / CACHE_DIR).exists()
