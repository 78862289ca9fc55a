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
PrimaryKeys = dict[str, tuple[str, ...]]  # table -> its primary key columns, in key order

SQLITE_PRIMARY_KEYS = """
    SELECT m.name, p.name FROM sqlite_master AS m
    LEFT JOIN pragma_table_info(m.name) AS p ON p.pk > 0
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite~_%' ESCAPE '~'
    ORDER BY m.name, p.pk
"""  # every table's primary key columns in key order (none: one row with NULL)
_SQLITE_TABLES: dict[tuple[str | None, ...], Schema] = {}  # a table's schema texts -> entries
_SQLITE_TABLES_KEPT = 4096


def snapshot(
    connection: Connection, ignore: frozenset[str], inspector: Inspector, keys: PrimaryKeys
) -> Schema:
    """The schema `connection` sees (through `inspector` and its cache), leaving out the
    tables named in `ignore`; `keys`: its tables' primary keys (`primary_keys`)."""
    names = [table for table in inspector.get_table_names() if table not in ignore]
    texts = _sqlite_texts(connection) if connection.dialect.name == "sqlite" else {}
    known = {t: _SQLITE_TABLES[texts[t]] for t in names if texts.get(t) in _SQLITE_TABLES}
    unread = [table for table in names if table not in known] if texts else None
    read = _tables(inspector, unread, keys, connection)
    for table, entries in read.items():
        if table in texts:
            if len(_SQLITE_TABLES) >= _SQLITE_TABLES_KEPT:
                _SQLITE_TABLES.clear()
            _SQLITE_TABLES[texts[table]] = entries
    schema: Schema = {}
    for table in names:
        schema.update(known.get(table) or read[table])
    if connection.dialect.name == "postgresql":
        for enum in inspector.get_enums():  # type: ignore[attr-defined]
            schema[f"enum type {enum['name']}"] = ", ".join(enum["labels"])
        for sequence in inspector.get_sequence_names():
            schema[f"sequence {sequence}"] = ""
    return schema


def primary_keys(connection: Connection, inspector: Inspector | None = None) -> PrimaryKeys:
    """Each table's primary key columns, in key order, read for all tables at once: on SQLite
    in one query, elsewhere through `inspector` (if given, its cache)."""
    if connection.dialect.name != "sqlite":
        inspector = inspector or inspect(connection)
        reflected = inspector.get_multi_pk_constraint()
        return {name: tuple(key["constrained_columns"]) for (_, name), key in reflected.items()}
    keys: PrimaryKeys = {}
    for table, column in connection.execute(text(SQLITE_PRIMARY_KEYS)):
        keys[table] = (*keys.get(table, ()), *([column] if column is not None else []))
    return keys


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


def _tables(
    inspector: Inspector, names: list[str] | None, keys: PrimaryKeys, connection: Connection
) -> dict[str, Schema]:
    """The entries of each table in `names` (None: every table), each kind of them read for
    all tables at once (one catalog query per kind on PostgreSQL, not one per table)."""
    if names == []:
        return {}
    columns = inspector.get_multi_columns(filter_names=names)
    foreign_keys = inspector.get_multi_foreign_keys(filter_names=names)
    indexes = inspector.get_multi_indexes(filter_names=names)
    uniques = inspector.get_multi_unique_constraints(filter_names=names)
    checks = inspector.get_multi_check_constraints(filter_names=names)
    read = {}
    for key in columns:
        table = key[1]
        entries: Schema = {f"table {table}": ""}
        for column in columns[key]:
            entries[f"column {table}.{column['name']}"] = _column(column, connection)
        if keys.get(table):
            entries[f"primary key {table}"] = _names(list(keys[table]))
        for foreign in foreign_keys[key]:
            options = " ".join(f"{k.upper()} {v}" for k, v in sorted(foreign["options"].items()))
            entries[f"foreign key {table}{_names(foreign['constrained_columns'])}"] = (
                f"{foreign['referred_table']}{_names(foreign['referred_columns'])} {options}"
            ).strip()
        for index in indexes[key]:
            unique = " UNIQUE" if index["unique"] else ""
            entries[f"index {table}.{index['name']}"] = f"{_names(index['column_names'])}{unique}"
        for constraint in uniques[key]:
            name = constraint["name"] or _names(constraint["column_names"])
            entries[f"unique constraint {table}.{name}"] = _names(constraint["column_names"])
        for check in checks[key]:
            name = check["name"] or check["sqltext"]
            entries[f"check constraint {table}.{name}"] = check["sqltext"]
        read[table] = entries
    return read


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
