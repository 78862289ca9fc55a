"""Rows to prove data survives migrations: generated to fit a schema, dumped, compared.

`generate` inserts a few rows into every table, parents before children, with values that
fit each column's type, are unique (a running number is in each) and point at existing rows
through foreign keys. `dump` reads every row back keyed by primary key; `compare` says which
rows were lost or appeared and which values changed, except in the columns a data migration
declared it changes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, select
from sqlalchemy import types as sqltypes
from sqlalchemy.exc import SQLAlchemyError

from harness.migrations import one_line

ROWS_PER_TABLE = 2
EPOCH = dt.datetime(2024, 1, 1)

Rows = dict[tuple[Any, ...], dict[str, Any]]
Dump = dict[str, Rows]


def reflect(connection: Connection, ignore: frozenset[str]) -> list[Table]:
    """The tables `connection` sees, parents before children."""
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name not in ignore]


def dump(connection: Connection, ignore: frozenset[str] = frozenset()) -> Dump:
    """Every row of every table but `ignore`, keyed by primary key."""
    return {table.name: _rows(connection, table) for table in reflect(connection, ignore)}


def generate(
    connection: Connection, numbers: Iterator[int], ignore: frozenset[str] = frozenset()
) -> list[str]:
    """Insert ROWS_PER_TABLE rows into each table; the tables it could not fill, and why."""
    problems = []
    for table in reflect(connection, ignore):
        for _ in range(ROWS_PER_TABLE):
            try:
                row = _row(connection, table, next(numbers))
                with connection.begin_nested():
                    connection.execute(table.insert().values(row))
            except (SQLAlchemyError, _CannotFill) as exc:
                problems.append(f"could not add a row to {table.name}: {one_line(exc)}")
                break
    return problems


def compare(before: Dump, after: Dump, may_change: dict[str, set[str]]) -> list[str]:
    """What happened to `before`'s rows in `after`, in the tables and columns both have."""
    lines = []
    for table in sorted(before.keys() & after.keys()):
        old, new = before[table], after[table]
        lost = [key for key in old if key not in new]
        appeared = [key for key in new if key not in old]
        if lost:
            lines.append(f"{table}: {len(lost)} row(s) lost, e.g. {_key(lost[0])}")
        if appeared:
            lines.append(f"{table}: {len(appeared)} row(s) appeared, e.g. {_key(appeared[0])}")
        allowed = may_change.get(table, set())
        for key in old.keys() & new.keys():
            for column in sorted(old[key].keys() & new[key].keys() - allowed):
                if old[key][column] != new[key][column]:
                    lines.append(
                        f"{table}.{column} changed in row {_key(key)}: "
                        f"{old[key][column]!r} -> {new[key][column]!r}"
                    )
    return lines


def untouched(before: Dump, after: Dump, declared: dict[str, set[str]]) -> list[str]:
    """The declared columns whose value changed in no row (when there were rows to change)."""
    lines = []
    for table, columns in sorted(declared.items()):
        old, new = before.get(table, {}), after.get(table, {})
        common = old.keys() & new.keys()
        for column in sorted(columns):
            values = [(old[k].get(column), new[k].get(column)) for k in common if column in old[k]]
            if values and all(a == b for a, b in values):
                lines.append(f"{table}.{column}: declared as changed, but no row's value changed")
    return lines


def _rows(connection: Connection, table: Table) -> Rows:
    key_columns = [column.name for column in table.primary_key.columns]
    rows: Rows = {}
    seen: Counter[str] = Counter()
    for row in connection.execute(select(table)).mappings():
        values = dict(row)
        if key_columns:
            key = tuple(values[name] for name in key_columns)
        else:  # no primary key: a row is known by its values (and how often they occur)
            text = repr(sorted(values.items()))
            seen[text] += 1
            key = (text, seen[text])
        rows[key] = values
    return rows


class _CannotFill(Exception):
    """No value can be made for a NOT NULL column."""


def _row(connection: Connection, table: Table, number: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key in table.foreign_key_constraints:
        referred = key.referred_table
        columns = [element.column for element in key.elements]
        if referred is table:
            if all(column.nullable for column in key.columns):
                continue
            raise _CannotFill(f"{table.name} refers to itself through NOT NULL columns")
        targets = connection.execute(select(*columns)).all()
        if not targets:
            raise _CannotFill(f"{referred.name}, which {table.name} refers to, has no rows")
        target = targets[number % len(targets)]
        for local, value in zip(key.columns, target, strict=True):
            row[local.name] = value
    for column in table.columns:
        if column.name in row or _assigned_by_database(column, table, connection):
            continue
        row[column.name] = _value(column, number)
    return row


def _assigned_by_database(column: Column[Any], table: Table, connection: Connection) -> bool:
    """A computed column, or a single integer primary key the database numbers itself (SQLite
    rowid, serial)."""
    if column.computed is not None:
        return True
    if list(table.primary_key.columns) != [column]:
        return False
    if not isinstance(column.type, sqltypes.Integer):
        return False
    return (
        connection.dialect.name == "sqlite"
        or column.server_default is not None
        or column.identity is not None
    )


def _value(column: Column[Any], number: int) -> Any:
    kind = column.type
    if isinstance(kind, sqltypes.Enum):
        return kind.enums[number % len(kind.enums)] if kind.enums else None
    if isinstance(kind, sqltypes.Boolean):
        return number % 2 == 0
    if isinstance(kind, sqltypes.Integer):
        return number
    if isinstance(kind, sqltypes.Numeric):
        return decimal.Decimal(number) + decimal.Decimal("0.5")
    if isinstance(kind, sqltypes.DateTime):
        moment = EPOCH + dt.timedelta(minutes=number)
        return moment.replace(tzinfo=dt.UTC) if kind.timezone else moment
    if isinstance(kind, sqltypes.Date):
        return EPOCH.date() + dt.timedelta(days=number)
    if isinstance(kind, sqltypes.Time):
        return dt.time(number % 24, number % 60)
    if isinstance(kind, sqltypes.Interval):
        return dt.timedelta(seconds=number)
    if isinstance(kind, sqltypes.JSON):
        return {"n": number}
    if isinstance(kind, sqltypes.Uuid):
        return uuid.UUID(int=number)
    if isinstance(kind, sqltypes.LargeBinary):
        return number.to_bytes(8, "big")
    if isinstance(kind, sqltypes.String):
        text = f"{column.name}-{number}"
        return text[-kind.length :] if kind.length else text
    if column.nullable:
        return None
    raise _CannotFill(f"no value for {column.table.name}.{column.name} of type {kind}")


def _key(key: tuple[Any, ...]) -> str:
    return ", ".join(repr(part) for part in key)
