"""The models check: Alembic's autogenerate comparison of a database with the models, made
the way the project's env.py configures it.

The env.py's own choices (`include_object`, `include_name`, `compare_type`,
`compare_server_default`) are honoured; where it makes none, types and server defaults are
compared. Alembic's own comparison is used but where it is known wrong: on PostgreSQL it asks
the server `'[]'::json = '[]'` for JSON defaults, which has no operator, so those are
compared as text; and it cannot call a project's own `compare_server_default` on a computed
column (it reads the reflected default's `.arg`), so then its own comparison is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData
from sqlalchemy import types as sqltypes
from sqlalchemy.schema import DefaultClause

from harness.db import EnvSettings


def differences(
    connection: Connection, metadata: MetaData, settings: EnvSettings, others: set[str]
) -> list[str]:
    """A line per difference autogenerate finds; tables in `others` (made by other histories
    sharing the database) are left out unless the models declare them."""
    server_default = settings.chosen.get("compare_server_default", True)
    try:
        found = _compare(connection, metadata, settings, others, server_default)
    except AttributeError as exc:
        if not callable(server_default) or "'Computed' object has no attribute" not in str(exc):
            raise
        connection.rollback()
        found = _compare(connection, metadata, settings, others, True)
    return [f"models and migrations differ: {_describe(d)}" for d in found]


def _compare(
    connection: Connection,
    metadata: MetaData,
    settings: EnvSettings,
    others: set[str],
    server_default: bool | Callable[..., Any],
) -> list[Any]:
    chosen = settings.chosen
    their_include_name = chosen.get("include_name")

    def include_name(name: str | None, kind: str, parents: Any) -> bool:
        if kind == "table" and name not in metadata.tables and name in others:
            return False
        return their_include_name is None or bool(their_include_name(name, kind, parents))

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": chosen.get("compare_type", True),
            "compare_server_default": server_default,
            "include_name": include_name,
            "include_object": chosen.get("include_object"),
            "include_schemas": chosen.get("include_schemas", False),
            "version_table": settings.version_table,
            "version_table_schema": chosen.get("version_table_schema"),
        },
    )
    if server_default is True and connection.dialect.name == "postgresql":
        _json_defaults_as_text(context)
    return list(compare_metadata(context, metadata))


def _json_defaults_as_text(context: MigrationContext) -> None:
    """Make `context` compare JSON columns' server defaults as text, others as Alembic does."""
    alembics = context.impl.compare_server_default

    def compare(
        inspector_column: Any,
        metadata_column: Any,
        rendered_metadata_default: str | None,
        rendered_inspector_default: str | None,
    ) -> bool:
        if isinstance(metadata_column.type, sqltypes.JSON):
            return _bare(rendered_inspector_default) != _bare(rendered_metadata_default)
        return bool(
            alembics(  # type: ignore[no-untyped-call]
                inspector_column,
                metadata_column,
                rendered_metadata_default,
                rendered_inspector_default,
            )
        )

    context.impl.compare_server_default = compare  # type: ignore[method-assign]


def _bare(default: str | None) -> str | None:
    """A default without its casts, parentheses and quotes: `('[]'::json)` -> `[]`."""
    if default is None:
        return None
    text = default.strip()
    while True:
        stripped = re.sub(r"::[\w ]+(\[\])?$", "", text).strip()
        if stripped.startswith("(") and stripped.endswith(")"):
            stripped = stripped[1:-1].strip()
        if stripped == text:
            return text.strip("'\"")
        text = stripped


def _describe(difference: Any) -> str:
    """An autogenerate diff tuple (or list of them) in words."""
    if isinstance(difference, list):
        return "; ".join(_describe(item) for item in difference)
    operation, *details = difference
    if operation.startswith("modify_"):
        _schema, table, column, _existing, database, models = details
        what = operation.removeprefix("modify_")
        database, models = _shown(database), _shown(models)
        return f"{table}.{column} {what}: {database} in the database, {models} in the models"
    return f"{operation} " + ", ".join(_name(detail) for detail in details if detail is not None)


def _shown(value: Any) -> str:
    """A compared value as a reader knows it: a server default by its SQL text."""
    if isinstance(value, DefaultClause):
        argument = value.arg
        return argument if isinstance(argument, str) else str(getattr(argument, "text", argument))
    return repr(value)


def _name(value: Any) -> str:
    table = getattr(value, "table", None)
    name = getattr(value, "name", None)
    if table is not None and name is not None:
        return f"{getattr(table, 'name', table)}.{name}"
    return str(name) if name is not None else repr(value)
