"""Generated rows on real SQLite databases: rows that fit the schema, dumps, comparisons."""

from __future__ import annotations

import itertools
import uuid

import sqlalchemy as sa

from harness.db._alembic import connected
from harness.migrations import _row_data as row_data


def test_generated_rows_take_listed_values_and_uuid_text_where_the_schema_asks(tmp_path):
    metadata = sa.MetaData()
    sa.Table(
        "tickets",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("public_id", sa.String(36), nullable=False),
        sa.Column("hex_id", sa.String(32), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_status"),
    )
    with connected(f"sqlite:///{tmp_path / 'db.sqlite3'}") as connection:
        metadata.create_all(connection)

        notices = row_data.generate(connection, itertools.count(1))
        rows = list(row_data.dump(connection)["tickets"].rows.values())

    assert notices == []
    assert {row["status"] for row in rows} == {"open", "closed"}
    assert all(uuid.UUID(row["public_id"]) == uuid.UUID(hex=row["hex_id"]) for row in rows)


def test_rows_are_matched_by_the_earlier_primary_key_when_it_widens():
    before = {"stock": row_data.TableRows(("sku",), {("a",): {"sku": "a", "count": 1}})}
    widened = {"sku": "a", "region": "eu", "count": 1}
    after = {"stock": row_data.TableRows(("sku", "region"), {("a", "eu"): widened})}

    assert row_data.compare(before, after, {}) == []
    lost = {"stock": row_data.TableRows(("sku", "region"), {})}
    assert row_data.compare(before, lost, {}) == ["stock: 1 row(s) lost, e.g. 'a'"]


def test_a_table_declared_any_rows_is_not_compared():
    before = {"sessions": row_data.TableRows(("id",), {(1,): {"id": 1}})}
    after = {"sessions": row_data.TableRows(("id",), {})}

    assert row_data.compare(before, after, {"sessions": {row_data.ANY_ROWS}}) == []
    assert row_data.compare(before, after, {}) == ["sessions: 1 row(s) lost, e.g. 1"]


def test_rows_are_generated_only_where_they_tell_something_new(tmp_path):
    metadata = sa.MetaData()
    sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "children",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parents.id"), nullable=False),
    )
    sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True))
    with connected(f"sqlite:///{tmp_path / 'db.sqlite3'}") as connection:
        metadata.create_all(connection)
        numbers = itertools.count(1)
        row_data.generate(connection, numbers, only={"parents", "notes"})
        before = row_data.dump(connection)
        connection.execute(sa.text("ALTER TABLE notes ADD COLUMN body TEXT"))
        wanted = row_data.wanting_rows(before, row_data.dump(connection))

        assert wanted == {"children", "notes"}  # empty; columns changed. parents: as it was
        assert row_data.generate(connection, numbers, only={"children"}) == []
        after = row_data.dump(connection)

    assert len(after["children"].rows) == row_data.ROWS_PER_TABLE  # its parents' keys reflected
    assert len(after["parents"].rows) == len(before["parents"].rows) == row_data.ROWS_PER_TABLE
    assert len(after["notes"].rows) == row_data.ROWS_PER_TABLE  # only= left it as it was
    assert row_data.wanting_rows(before, {"parents": before["parents"]}) == set()
    assert row_data.wanting_rows({}, {"parents": before["parents"]}) == {"parents"}  # new


def test_a_dump_keys_each_table_by_its_primary_key_in_key_order(tmp_path):
    with connected(f"sqlite:///{tmp_path / 'db.sqlite3'}") as connection:
        for statement in (
            'CREATE TABLE "stock levels" (qty INT, sku TEXT, region TEXT, '
            "PRIMARY KEY (region, sku))",
            "CREATE TABLE events (payload TEXT)",  # no key: rows known by their values
            "INSERT INTO \"stock levels\" VALUES (3, 'a', 'eu')",
            "INSERT INTO events VALUES ('x'), ('x')",
        ):
            connection.execute(sa.text(statement))
        inspector = sa.inspect(connection)
        dumped = row_data.dump(connection)

        for name in inspector.get_table_names():  # the keys SQLAlchemy reflects, one by one
            assert dumped[name].key == tuple(
                inspector.get_pk_constraint(name)["constrained_columns"]
            )
    assert dumped["stock levels"].key == ("region", "sku")
    assert list(dumped["stock levels"].rows) == [("eu", "a")]
    assert len(dumped["events"].rows) == 2
