"""harness.migration_checks on fixture histories that each carry one defect, and a clean one.

Each defective history must be reported by exactly the checks its defect breaks, naming
what differs; the clean one (a branch, a merge, a declared data migration, an enum type
dropped on the way down) by none.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from conftest import app_command
from harness.clones import PostgresScratch, SQLiteScratch
from harness.config import parse_config
from harness.databases import admin_conninfo
from harness.exceptions import ConfigError, MigrationError
from harness.migration_checks import MigrationChecker, histories, planned
from harness.migrations import History
from harness.stack import Stack

FIXTURES = Path(__file__).parent / "fixtures" / "migrations"


def history(
    name: str, minimum_downgrade: str | None = None, heads: tuple[str, ...] | None = None
) -> History:
    models = FIXTURES / name / "models.py"
    metadata = f"fixtures.migrations.{name}.models:metadata" if models.exists() else None
    return History(name, FIXTURES / name, metadata, minimum_downgrade, heads)


def failures(results) -> dict[str, str]:
    return {result.check: result.detail for result in results if result.status == "failed"}


DEFECTS = [
    ("leftover_column", {"stairway[0002]"}, "column items.note: only after"),
    ("non_idempotent_data", {"data[0002]"}, "after down and up again: items.price changed"),
    ("model_mismatch", {"models", "fresh_install"}, "items.name"),
    ("two_heads", {"heads"}, "2 heads (0002a, 0002b)"),
    ("irreversible", {"stairway[0002]", "downgrade_to_base"}, "NotImplementedError"),
    ("not_null_without_default", {"stairway[0002]"}, "failed over 2 existing rows"),
    ("orphan", {"heads"}, "names down revision 0001-gone"),
]


@pytest.mark.parametrize(("name", "checks", "says"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_reported_by_exactly_the_checks_it_breaks(tmp_path, name, checks, says):
    results = MigrationChecker(history(name), SQLiteScratch(tmp_path)).run()

    found = failures(results)
    assert set(found) == checks
    assert all(says in detail for detail in found.values()), found
    assert [result.id for result in results] == planned(history(name))
    assert list(tmp_path.iterdir()) == []  # every scratch database dropped


def test_a_clean_history_with_a_branch_and_a_merge_passes_every_check(tmp_path):
    results = MigrationChecker(history("clean"), SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    checks = [result.check for result in results if result.status == "passed"]
    for revision in ("0001", "0002a", "0002b", "0003", "0004"):  # merge 0003 after both
        assert f"stairway[{revision}]" in checks and f"data[{revision}]" in checks
    assert checks.index("stairway[0003]") > checks.index("stairway[0002b]")
    assert {"models", "fresh_install", "idempotent", "downgrade_to_base"} <= set(checks)


def test_a_declared_irreversible_downgrade_is_skipped_with_the_reason(tmp_path):
    results = MigrationChecker(history("irreversible", "0002"), SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    skipped = {result.check: result.detail for result in results if result.status == "skipped"}
    assert "declared irreversible (minimum_downgrade = 0002)" in skipped["stairway[0002]"]
    assert "stairway[0001]" in skipped  # below the floor too
    assert "minimum_downgrade = 0002" in skipped["downgrade_to_base"]
    assert "data[0002]" not in skipped  # rows are still checked on the way up


def test_declared_heads_are_accepted_and_a_different_set_is_reported(tmp_path):
    declared = MigrationChecker(
        history("two_heads", heads=("0002b", "0002a")), SQLiteScratch(tmp_path)
    )
    assert failures(declared.run()) == {}

    wrong = MigrationChecker(history("two_heads", heads=("0002a",)), SQLiteScratch(tmp_path))
    assert failures(wrong.run()) == {"heads": "heads are 0002a, 0002b; declared 0002a"}


def test_an_unknown_history_name_is_a_config_error_naming_the_known_ones(tmp_path):
    service = {
        "command": app_command(),
        "database": True,
        "migrations": str(FIXTURES / "clean"),
        "heads": ["0004"],
    }
    config = parse_config({"services": {"db": service}}, root=tmp_path)

    assert [h.heads for h in histories(config)] == [("0004",)]
    with pytest.raises(ConfigError, match="no history named nope; services with migrations: db"):
        histories(config, ["nope"])


def test_an_env_py_that_ignores_the_passed_connection_is_told_what_to_change(tmp_path):
    with pytest.raises(MigrationError, match=r"config.attributes\['connection'\]") as caught:
        MigrationChecker(history("ignores_connection"), SQLiteScratch(tmp_path)).run()
    assert "ignores_connection/env.py" in str(caught.value)


def test_a_declared_change_that_changes_nothing_is_reported(tmp_path):
    copy = tmp_path / "history"
    (copy / "versions").mkdir(parents=True)
    (copy / "env.py").write_text((FIXTURES / "non_idempotent_data" / "env.py").read_text())
    for script in (FIXTURES / "non_idempotent_data" / "versions").glob("*.py"):
        text = script.read_text().replace("SET price = price * 100", "SET price = price")
        (copy / "versions" / script.name).write_text(text)
    scratch = tmp_path / "databases"
    scratch.mkdir()

    results = MigrationChecker(History("noop", copy), SQLiteScratch(scratch)).run()

    assert failures(results) == {
        "data[0002]": "items.price: declared as changed, but no row's value changed"
    }


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A database-only run on a throwaway PostgreSQL cluster."""
    service = {"command": app_command(), "database": True}
    config = parse_config({"services": {"db": service}}, root=tmp_path_factory.mktemp("pg"))
    stack = Stack(config, "migration-checks")
    state = stack.up("postgres", database_only=True)
    yield config, state.database
    assert stack.down().ok


def _databases(record) -> set[str]:
    with psycopg.connect(admin_conninfo(record)) as admin:
        return {row[0] for row in admin.execute("SELECT datname FROM pg_database")}


@pytest.mark.parametrize(
    ("name", "checks", "says"),
    [
        ("clean", set(), ""),
        (
            "enum_left_behind",
            {"stairway[0002]", "downgrade_to_base"},
            "enum type mood: only after (happy, sad)",
        ),
    ],
)
def test_on_postgresql_enum_types_left_behind_are_caught(postgres, name, checks, says):
    config, record = postgres
    before = _databases(record)

    results = MigrationChecker(history(name), PostgresScratch(config, record, "t")).run()

    found = failures(results)
    assert set(found) == checks
    assert all(says in detail for detail in found.values()), found
    assert _databases(record) == before  # every scratch database dropped
