"""Rows to prove data survives migrations: generated to fit a schema, dumped, compared.

`generate` inserts a few rows into every table (or those named), parents before children,
with values that fit each column's type (UUID text in UUID-sized strings, a listed value
where a CHECK says `column IN (...)`), are unique (a running number is in each; a clash is
tried again with the next one) and point at existing rows through foreign keys (NULL in a
nullable one whose table has no rows yet, as in a cycle). A table it still cannot fill is
left empty, with a notice; `wanting_rows` names the tables new rows tell something about.
`dump` reads every row back keyed by primary key; `compare` says which rows were lost or
appeared and which values changed, except in the columns a data migration declared it
changes (or any, for a table declared `ANY_ROWS`), and keys rows by the earlier primary key
when a revision changes it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CheckConstraint, Column, Connection, MetaData, Table, inspect, select, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Inspector
from sqlalchemy.exc import IntegrityError, SAWarning, SQLAlchemyError

from harness.db import one_line
from harness.migrations._schema_snapshot import PrimaryKeys, primary_keys

ROWS_PER_TABLE = 2
TRIES_PER_ROW = 5  # a unique or primary key clash is tried again with the next number
EPOCH = dt.datetime(2024, 1, 1)
ANY_ROWS = "*"  # in a table's declared changes: its rows may change in any way
IN_LIST = re.compile(r"""["`]?(\w+)["`]?\s+IN\s*\(([^()]*)\)""", re.IGNORECASE)
ANY_ARRAY = re.compile(r"\(?(\w+)\)?(?:::[\w ]+)?\s*=\s*ANY\s*\(+ARRAY\[([^\]]*)\]")  # PostgreSQL's

Rows = dict[tuple[Any, ...], dict[str, Any]]


@dataclass
class TableRows:
    """A table's rows keyed by the values of `key`, its primary key columns (or, with none,
    by all values and how often they occur)."""

    key: tuple[str, ...]
    rows: Rows = field(default_factory=dict)


Dump = dict[str, TableRows]


def reflect(
    connection: Connection,
    ignore: frozenset[str],
    inspector: Inspector | None = None,
    only: set[str] | None = None,
) -> list[Table]:
    """The tables `connection` sees (through `inspector`, if given, and its cache), parents
    before children (cycles broken anywhere); with `only`, those of them, each table they
    refer to standing in with just the columns referred to (enough to read its keys)."""
    metadata = MetaData()
    if only is not None:
        _stand_ins(metadata, inspector or inspect(connection), only)
    names = None if only is None else sorted(only)
    reading = inspector or connection  # an inspector works, and reflects through its cache
    metadata.reflect(reading, only=names, resolve_fks=only is None)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # "unresolvable cycles": rows fill them
        tables = metadata.sorted_tables
    wanted = [table for table in tables if table.name not in ignore]
    return wanted if only is None else [table for table in wanted if table.name in only]


def _stand_ins(metadata: MetaData, inspector: Inspector, only: set[str]) -> None:
    """A table in `metadata` for each one the tables in `only` refer to but are not among
    them: its name and the referred columns only, so the reflection stops there rather than
    following foreign keys through the whole schema."""
    for name in only:
        for key in inspector.get_foreign_keys(name):
            if key["referred_table"] in only and key["referred_schema"] is None:
                continue
            columns: list[Column[Any]] = [Column(c) for c in key["referred_columns"]]
            Table(
                key["referred_table"],
                metadata,
                *columns,
                schema=key["referred_schema"],
                extend_existing=True,
            )


def dump(
    connection: Connection,
    ignore: frozenset[str] = frozenset(),
    inspector: Inspector | None = None,
    keys: PrimaryKeys | None = None,
) -> Dump:
    """Every row of every table but `ignore`, as the driver returns it, keyed by primary key.
    No table is reflected: `keys` (if given, else read through `inspector`) names the tables
    and their keys."""
    quote = connection.dialect.identifier_preparer.quote
    dumped = {}
    keys = keys if keys is not None else primary_keys(connection, inspector)
    for name, key in keys.items():
        if name not in ignore:
            result = connection.execute(text(f"SELECT * FROM {quote(name)}")).mappings()
            dumped[name] = TableRows(key, _keyed((dict(row) for row in result), key))
    return dumped


def generate(
    connection: Connection,
    numbers: Iterator[int],
    ignore: frozenset[str] = frozenset(),
    inspector: Inspector | None = None,
    only: set[str] | None = None,
) -> list[str]:
    """Insert ROWS_PER_TABLE rows into each table (or each of `only`); a notice per table it
    could not fill."""
    notices = []
    for table in reflect(connection, ignore, inspector, only):
        for _ in range(ROWS_PER_TABLE):
            problem = _insert(connection, table, numbers)
            if problem:
                notices.append(f"no rows generated in {table.name}: {problem}")
                break
    return notices


def empty(connection: Connection, ignore: frozenset[str] = frozenset()) -> None:
    """Delete every row of every table but `ignore`, children first."""
    for table in reversed(reflect(connection, ignore)):
        connection.execute(table.delete())


def compare(before: Dump, after: Dump, may_change: dict[str, set[str]]) -> list[str]:
    """What happened to `before`'s rows in `after`, in the tables and columns both have."""
    lines = []
    for table in sorted(before.keys() & after.keys()):
        if ANY_ROWS in may_change.get(table, set()):
            continue
        old, new = before[table].rows, _rekeyed(after[table], before[table].key)
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
        if ANY_ROWS in columns or table not in before or table not in after:
            continue
        old, new = before[table].rows, _rekeyed(after[table], before[table].key)
        common = old.keys() & new.keys()
        for column in sorted(columns):
            values = [(old[k].get(column), new[k].get(column)) for k in common if column in old[k]]
            if values and all(a == b for a, b in values):
                lines.append(f"{table}.{column}: declared as changed, but no row's value changed")
    return lines


def wanting_rows(before: Dump, after: Dump) -> set[str]:
    """The tables of `after` that new rows would tell more about: those without rows, and
    those whose columns are not those of their rows in `before` (new, or changed since). A
    table as it was keeps its rows, and more of the same show nothing new."""
    return {
        name
        for name, table in after.items()
        if not table.rows or name not in before or _columns(table) != _columns(before[name])
    }


def _columns(table: TableRows) -> set[str] | None:
    """The columns of a table's rows (None when it has none to tell)."""
    first = next(iter(table.rows.values()), None)
    return None if first is None else set(first)


def count(dumped: Dump) -> int:
    """How many rows `dumped` holds."""
    return sum(len(table.rows) for table in dumped.values())


def _keyed(rows: Iterable[dict[str, Any]], key: tuple[str, ...]) -> Rows:
    keyed: Rows = {}
    seen: Counter[str] = Counter()
    for values in rows:
        if key:
            keyed[tuple(values.get(name) for name in key)] = values
        else:  # no primary key: a row is known by its values (and how often they occur)
            text = repr(sorted(values.items()))
            seen[text] += 1
            keyed[(text, seen[text])] = values
    return keyed


def _rekeyed(table: TableRows, key: tuple[str, ...]) -> Rows:
    """`table`'s rows keyed by `key` (an earlier primary key), when every row has its columns."""
    if table.key == key or not all(set(key) <= row.keys() for row in table.rows.values()):
        return table.rows
    return _keyed(table.rows.values(), key)


def _insert(connection: Connection, table: Table, numbers: Iterator[int]) -> str:
    """Add one row to `table`; "" or why it could not be added."""
    problem = ""
    for _ in range(TRIES_PER_ROW):
        try:
            row = _row(connection, table, next(numbers))
            with connection.begin_nested():
                connection.execute(table.insert().values(row))
            return ""
        except IntegrityError as exc:
            problem = one_line(exc)
        except (SQLAlchemyError, _CannotFill) as exc:
            return one_line(exc)
    return problem


class _CannotFill(Exception):
    """No value can be made for a NOT NULL column."""


def _row(connection: Connection, table: Table, number: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    combination = number
    for key in table.foreign_key_constraints:
        referred = key.referred_table
        columns = [element.column for element in key.elements]
        if referred is table:
            if all(column.nullable for column in key.columns):
                continue
            raise _CannotFill(f"{table.name} refers to itself through NOT NULL columns")
        targets = connection.execute(select(*columns)).all()
        if not targets and all(column.nullable for column in key.columns):
            continue  # NULL: the row it could point at is not there yet (a cycle, say)
        if not targets:
            raise _CannotFill(f"{referred.name}, which {table.name} refers to, has no rows")
        target = targets[combination % len(targets)]
        combination //= len(targets)  # the next key counts in the next digit: pairs differ
        for local, value in zip(key.columns, target, strict=True):
            row[local.name] = value
    allowed = _listed_values(table)
    for column in table.columns:
        if column.name in row or _assigned_by_database(column, table, connection):
            continue
        listed = allowed.get(column.name)
        row[column.name] = listed[number % len(listed)] if listed else _value(column, number)
    return row


def _listed_values(table: Table) -> dict[str, list[Any]]:
    """Per column, the values a CHECK (column IN ('a', 'b', 1)) lets it take."""
    allowed: dict[str, list[Any]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            text = str(constraint.sqltext)
            for column, values in IN_LIST.findall(text) + ANY_ARRAY.findall(text):
                literals = [_literal(value) for value in values.split(",") if value.strip()]
                if column in table.columns and literals:
                    allowed[column] = literals
    return allowed


def _literal(text: str) -> Any:
    value = text.strip()
    value = re.sub(r"::[\w ]+$", "", value)  # PostgreSQL's 'a'::text
    if value.startswith("'") and value.endswith("'"):
        return value[1:-1].replace("''", "'")
    try:
        return int(value)
    except ValueError:
        return value


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
        return _text(column.name, kind.length, number)
    if column.nullable:
        return None
    raise _CannotFill(f"no value for {column.table.name}.{column.name} of type {kind}")


def _text(name: str, length: int | None, number: int) -> str:
    """`name-number`; UUID text in a column sized for one (or named for one)."""
    value = uuid.UUID(int=number)
    if length == 32:
        return value.hex
    if length == 36 or (re.search(r"uuid|guid", name, re.IGNORECASE) and (length or 36) >= 36):
        return str(value)
    text = f"{name}-{number}"
    return text[-length:] if length else text


def _key(key: tuple[Any, ...]) -> str:
    return ", ".join(repr(part) for part in key)
