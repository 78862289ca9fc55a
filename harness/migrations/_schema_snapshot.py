"""A database's schema as a flat, comparable map, and the differences between two of them.

Every table, column (type, nullability, server default), primary key, foreign key, index,
unique and check constraint becomes one entry `kind name -> description`; on PostgreSQL so
do enum types and sequences. Two snapshots differ exactly where their entries do, which is
what a reader needs to be told: `column cases.status: only after (VARCHAR(20) NOT NULL)`.

On SQLite a table's entries follow from its `CREATE TABLE` text and its indexes' (all of
its schema SQLite keeps), so they are read once per distinct text: a history's snapshots
read again only the tables a revision changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Inspector
from sqlalchemy.engine.interfaces import ReflectedColumn

Schema = dict[str, str]
_SQLITE_TABLES: dict[tuple[str | None, ...], Schema] = {}  # a table's schema texts -> entries
_SQLITE_TABLES_KEPT = 4096


def snapshot(
    connection: Connection, ignore: frozenset[str] = frozenset(), inspector: Inspector | None = None
) -> Schema:
    """The schema `connection` sees (through `inspector`, if given, and its cache), leaving out
    the tables named in `ignore`."""
    inspector = inspector or inspect(connection)
    texts = _sqlite_texts(connection) if connection.dialect.name == "sqlite" else {}
    schema: Schema = {}
    for table in inspector.get_table_names():
        if table in ignore:
            continue
        if table not in texts:
            schema.update(_table(inspector, table, connection))
            continue
        if texts[table] not in _SQLITE_TABLES:
            if len(_SQLITE_TABLES) >= _SQLITE_TABLES_KEPT:
                _SQLITE_TABLES.clear()
            _SQLITE_TABLES[texts[table]] = _table(inspector, table, connection)
        schema.update(_SQLITE_TABLES[texts[table]])
    if connection.dialect.name == "postgresql":
        for enum in inspector.get_enums():  # type: ignore[attr-defined]
            schema[f"enum type {enum['name']}"] = ", ".join(enum["labels"])
        for sequence in inspector.get_sequence_names():
            schema[f"sequence {sequence}"] = ""
    return schema


def differences(
    before: Schema, after: Schema, labels: tuple[str, str] = ("before", "after")
) -> list[str]:
    """One line per entry only in one of the schemas or different in them."""
    first, second = labels
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"{key}: only {first}" + (f" ({before[key]})" if before[key] else ""))
        elif key not in before:
            lines.append(f"{key}: only {second}" + (f" ({after[key]})" if after[key] else ""))
        elif before[key] != after[key]:
            lines.append(f"{key}: {before[key]!r} {first}, {after[key]!r} {second}")
    return lines


def _sqlite_texts(connection: Connection) -> dict[str, tuple[str | None, ...]]:
    """Each table's name with the SQL that makes it and its indexes, as SQLite keeps it."""
    rows = connection.execute(
        text("SELECT tbl_name, type, name, sql FROM sqlite_master ORDER BY tbl_name, type, name")
    )
    texts: dict[str, tuple[str | None, ...]] = {}
    for table, kind, name, sql in rows:
        texts[table] = (*texts.get(table, (table,)), kind, name, sql)
    return texts


def _table(inspector: Inspector, table: str, connection: Connection) -> Schema:
    entries: Schema = {f"table {table}": ""}
    for column in inspector.get_columns(table):
        entries[f"column {table}.{column['name']}"] = _column(column, connection)
    primary_key = inspector.get_pk_constraint(table)
    if primary_key["constrained_columns"]:
        entries[f"primary key {table}"] = _names(primary_key["constrained_columns"])
    for key in inspector.get_foreign_keys(table):
        options = " ".join(f"{k.upper()} {v}" for k, v in sorted(key["options"].items()))
        entries[f"foreign key {table}{_names(key['constrained_columns'])}"] = (
            f"{key['referred_table']}{_names(key['referred_columns'])} {options}".strip()
        )
    for index in inspector.get_indexes(table):
        unique = " UNIQUE" if index["unique"] else ""
        entries[f"index {table}.{index['name']}"] = f"{_names(index['column_names'])}{unique}"
    for constraint in inspector.get_unique_constraints(table):
        name = constraint["name"] or _names(constraint["column_names"])
        entries[f"unique constraint {table}.{name}"] = _names(constraint["column_names"])
    for check in inspector.get_check_constraints(table):
        entries[f"check constraint {table}.{check['name'] or check['sqltext']}"] = check["sqltext"]
    return entries


def _column(column: ReflectedColumn, connection: Connection) -> str:
    try:
        type_name = column["type"].compile(dialect=connection.dialect)
    except Exception:  # a reflected type the dialect cannot render: its repr still compares
        type_name = repr(column["type"])
    text = f"{type_name} {'NULL' if column['nullable'] else 'NOT NULL'}"
    if column.get("default") is not None:
        text += f" DEFAULT {column['default']}"
    return text


def _names(columns: list[Any]) -> str:
    return "(" + ", ".join(str(column) for column in columns) + ")"
