"""The models check on real SQLite databases: the env.py's own choices are used, and
Alembic's own comparison where it cannot use them (a computed column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from harness.db._alembic import EnvSettings, connected
from harness.migrations._model_comparison import differences


def _items(computed: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    total = [sa.Column("total", sa.Integer, sa.Computed("price * 2", persisted=True))]
    sa.Table(
        "items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("price", sa.Integer, nullable=False, server_default="0"),
        *(total if computed else []),
    )
    return metadata


def _compare(tmp_path: Path, computed: bool, **chosen: Any) -> list[str]:
    metadata = _items(computed)
    with connected(f"sqlite:///{tmp_path / 'db.sqlite3'}") as connection:
        metadata.create_all(connection)
        return differences(connection, metadata, EnvSettings("alembic_version", chosen), set())


def test_an_env_py_compare_server_default_decides_where_alembic_can_call_it(tmp_path):
    def always_differs(*_args: Any) -> bool:
        return True

    assert _compare(tmp_path, computed=False) == []
    found = _compare(tmp_path, computed=False, compare_server_default=always_differs)
    assert found == [
        "models and migrations differ: items.price default: '0' in the database, 0 in the models"
    ]


def test_with_a_computed_column_alembic_s_own_comparison_replaces_the_env_py_s(tmp_path):
    def never_differs(*_args: Any) -> bool:
        return False

    assert _compare(tmp_path, computed=True, compare_server_default=never_differs) == []


def test_other_errors_of_the_env_py_comparison_are_not_hidden(tmp_path):
    def broken(*_args: Any) -> bool:
        raise AttributeError("the project's own bug")

    with pytest.raises(AttributeError, match="the project's own bug"):
        _compare(tmp_path, computed=False, compare_server_default=broken)
