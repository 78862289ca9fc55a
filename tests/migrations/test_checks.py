"""harness.migrations._checks on fixture histories that each carry one defect, and a clean one.

Each defective history must be reported by exactly the checks its defect breaks, naming
what differs; the clean one (a branch, a merge, a declared data migration, an enum type
dropped on the way down) by none.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import app_command, invoke
from harness.config._project import parse_config
from harness.db._alembic import History
from harness.db._clones import PostgresScratch, SQLiteScratch
from harness.db._databases import admin_conninfo, service_url
from harness.exceptions import ConfigError, MigrationError
from harness.migrations._checks import MigrationChecker, check_all, histories, planned
from harness.stack._stack import Stack

FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrations"
ROOT = Path(__file__).parents[2]


def history(
    name: str,
    minimum_downgrade: str | None = None,
    heads: tuple[str, ...] | None = None,
    **options: Any,
) -> History:
    models = FIXTURES / name / "models.py"
    metadata = f"fixtures.migrations.{name}.models:metadata" if models.exists() else None
    return History(name, FIXTURES / name, metadata, minimum_downgrade, heads, **options)


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
    ("noop_downgrade", {"stairway[0002]"}, "leaves a trace: index items.ix_items_price"),
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


def test_checks_not_run_name_the_revision_that_failed_below_them_and_its_file_and_line(tmp_path):
    results = MigrationChecker(history("upgrade_fails"), SQLiteScratch(tmp_path)).run()

    found = failures(results)
    assert set(found) == {"upgrade", "stairway[0002]"}
    assert "in revision 0002 (" in found["stairway[0002]"]
    assert "versions/0002_broken.py:12)" in found["stairway[0002]"]
    skipped = {r.check: r.detail for r in results if r.status == "skipped"}
    for check in ("data[0002]", "stairway[0003]", "data[0004]", "downgrade_to_base"):
        assert skipped[check] == "not run: blocked by stairway[0002]"
    assert skipped["idempotent"] == "not run: blocked by upgrade"


def test_only_a_downgrade_that_raises_on_purpose_is_told_to_declare_it_irreversible(tmp_path):
    broken = MigrationChecker(history("downgrade_breaks"), SQLiteScratch(tmp_path)).run()
    on_purpose = MigrationChecker(history("irreversible"), SQLiteScratch(tmp_path)).run()

    detail = failures(broken)["stairway[0002]"]
    assert "downgrade of 0002 failed in revision 0002 (" in detail
    assert "versions/0002_note.py:17): OperationalError" in detail
    assert "declare" not in detail
    assert "if it cannot be undone, declare" in failures(on_purpose)["stairway[0002]"]


def test_a_declared_irreversible_downgrade_is_skipped_with_the_reason(tmp_path):
    results = MigrationChecker(history("irreversible", "0002"), SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    skipped = {result.check: result.detail for result in results if result.status == "skipped"}
    assert "declared irreversible (minimum_downgrade = 0002)" in skipped["stairway[0002]"]
    assert "stairway[0001]" in skipped  # below the floor too
    assert "minimum_downgrade = 0002" in skipped["downgrade_to_base"]
    assert "data[0002]" not in skipped  # rows are still checked on the way up


def test_downgrades_declared_irreversible_one_by_one_still_let_a_real_bug_between_be_found(
    tmp_path,
):
    undeclared = MigrationChecker(history("many_irreversible"), SQLiteScratch(tmp_path)).run()
    declared = MigrationChecker(
        history("many_irreversible", irreversible=("0002", "0004")), SQLiteScratch(tmp_path)
    ).run()

    assert set(failures(undeclared)) == {"stairway[0002]", "stairway[0003]", "stairway[0004]"}
    assert set(failures(declared)) == {"stairway[0003]"}
    assert "column items.note: only after" in failures(declared)["stairway[0003]"]
    skipped = {result.check: result.detail for result in declared if result.status == "skipped"}
    assert skipped["stairway[0002]"] == "downgrade of 0002 declared irreversible"
    assert skipped["stairway[0004]"] == "downgrade of 0004 declared irreversible"
    assert skipped["downgrade_to_base"] == "not run: irreversible revisions declared"
    assert "stairway[0001]" not in skipped


def test_an_irreversible_revision_the_history_does_not_have_is_an_error_naming_it(tmp_path):
    checker = MigrationChecker(
        history("many_irreversible", irreversible=("0002", "0099")), SQLiteScratch(tmp_path)
    )

    with pytest.raises(MigrationError, match="irreversible names 0099, not revisions of"):
        checker.run()
    assert list(tmp_path.iterdir()) == []


def test_irreversible_in_the_config_reaches_the_history(tmp_path):
    service = {
        "command": app_command(),
        "database": True,
        "migrations": str(FIXTURES / "many_irreversible"),
        "irreversible": ["0002", "0004"],
    }
    config = parse_config({"services": {"db": service}}, root=tmp_path)

    assert [h.irreversible for h in histories(config)] == [("0002", "0004")]
    with pytest.raises(ConfigError, match=r"db\.irreversible: must be a list of revision ids"):
        parse_config({"services": {"db": {**service, "irreversible": "0002"}}}, root=tmp_path)


GENERATED_ROWS = ["check_constraints", "fk_cycle", "composite_key", "uuid_text", "widened_key"]


@pytest.mark.parametrize("name", GENERATED_ROWS)
def test_generated_rows_fit_the_schema_and_raise_no_false_alarm(tmp_path, name):
    results = MigrationChecker(history(name), SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    assert all(r.status == "passed" for r in results if r.check.startswith(("data", "stairway")))


def test_a_table_no_generated_row_fits_is_left_empty_with_a_notice_not_a_failure(tmp_path):
    results = MigrationChecker(history("check_constraints"), SQLiteScratch(tmp_path)).run()

    data = {r.check: r for r in results}["data[0001]"]
    assert data.status == "passed"
    assert data.detail == (
        "at 0001: no rows generated in codes: IntegrityError: (sqlite3.IntegrityError) "
        "CHECK constraint failed: ck_code"
    )  # tickets, whose CHECK lists its values, did get rows


def test_rows_a_revision_deletes_are_reported_unless_the_table_is_unchecked_or_declared(tmp_path):
    def run(**options: Any) -> dict[str, str]:
        scratch = tmp_path / str(len(list(tmp_path.iterdir())))
        scratch.mkdir()
        return failures(
            MigrationChecker(history("rows_rewritten", **options), SQLiteScratch(scratch)).run()
        )

    assert run() == {
        "data[0002]": "sessions: 2 row(s) lost, e.g. 1\n"
        "after downgrade: sessions: 2 row(s) lost, e.g. 1"
    }  # 0003 declares data_changes = {"items": "*"}: its purge is not reported
    assert run(unchecked_tables=("sessions",)) == {}
    assert run(data_checks=False) == {}


def test_data_checks_turned_off_skip_every_data_check_with_the_reason(tmp_path):
    results = MigrationChecker(
        history("rows_rewritten", data_checks=False), SQLiteScratch(tmp_path)
    ).run()

    skipped = {r.check: r.detail for r in results if r.status == "skipped"}
    assert skipped["data[0002]"] == "not run: data_checks = false"
    assert {r.check: r.status for r in results}["stairway[0002]"] == "passed"


def test_a_data_migration_failing_on_generated_rows_is_reported_and_later_revisions_checked(
    tmp_path,
):
    results = MigrationChecker(history("data_fails_on_rows"), SQLiteScratch(tmp_path)).run()

    found = failures(results)
    assert set(found) == {"stairway[0002]", "stairway[0003]"}
    assert "upgrade to 0002 failed over 2 existing rows" in found["stairway[0002]"]
    assert "on empty tables it succeeds" in found["stairway[0002]"]
    assert "column items.note: only after" in found["stairway[0003]"]  # the real bug after it
    statuses = {r.check: r.status for r in results}
    assert statuses["data[0002]"] == "skipped" and statuses["data[0003]"] == "passed"
    assert list(tmp_path.iterdir()) == []


def test_data_checks_and_unchecked_tables_in_the_config_reach_the_history(tmp_path):
    service = {
        "command": app_command(),
        "database": True,
        "migrations": str(FIXTURES / "rows_rewritten"),
        "data_checks": False,
        "unchecked_tables": ["sessions"],
    }
    (found,) = histories(parse_config({"services": {"db": service}}, root=tmp_path))

    assert (found.data_checks, found.unchecked_tables) == (False, ("sessions",))
    with pytest.raises(ConfigError, match=r"db\.unchecked_tables: must be a list of table"):
        parse_config({"services": {"db": {**service, "unchecked_tables": "x"}}}, root=tmp_path)


BASELINE = "fixtures.migrations.needs_baseline.baseline"


def test_a_history_that_needs_tables_made_before_it_is_told_to_declare_a_baseline(tmp_path):
    results = MigrationChecker(history("needs_baseline"), SQLiteScratch(tmp_path)).run()

    found = failures(results)
    assert set(found) == {"upgrade", "stairway[0002]"}
    assert "no such table: accounts" in found["stairway[0002]"]
    assert all("declare them as its baseline" in detail for detail in found.values())


@pytest.mark.parametrize("baseline", [f"{BASELINE}:metadata", f"{BASELINE}:create"])
def test_a_declared_baseline_is_made_before_the_first_revision(tmp_path, baseline):
    checked = history("needs_baseline", baseline_path=baseline)

    results = MigrationChecker(checked, SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    passed = {result.check for result in results if result.status == "passed"}
    assert {"upgrade", "stairway[0002]", "data[0002]", "downgrade_to_base"} <= passed


def test_a_start_revision_checks_only_the_revisions_after_it_over_the_baseline(tmp_path):
    checked = history("needs_baseline", baseline_path=f"{BASELINE}:metadata", start_revision="0001")

    results = MigrationChecker(checked, SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    statuses = {result.check: (result.status, result.detail) for result in results}
    assert statuses["stairway[0001]"] == ("skipped", "not run: at or before start_revision 0001")
    assert statuses["stairway[0002]"][0] == "passed"
    assert statuses["downgrade_to_base"][0] == "passed"
    assert list(tmp_path.iterdir()) == []


def test_a_baseline_that_is_neither_metadata_nor_a_function_is_an_error_naming_it(tmp_path):
    checked = history("needs_baseline", baseline_path=f"{BASELINE}:not_a_baseline")

    with pytest.raises(ConfigError, match="is a int, not a MetaData or a function"):
        MigrationChecker(checked, SQLiteScratch(tmp_path)).run()
    assert list(tmp_path.iterdir()) == []


def test_baseline_and_start_revision_in_the_config_reach_the_history(tmp_path):
    service = {
        "command": app_command(),
        "database": True,
        "migrations": str(FIXTURES / "needs_baseline"),
        "baseline": f"{BASELINE}:metadata",
        "start_revision": "0001",
    }
    (found,) = histories(parse_config({"services": {"db": service}}, root=tmp_path))

    assert (found.baseline_path, found.start_revision) == (f"{BASELINE}:metadata", "0001")
    with pytest.raises(ConfigError, match=r"db\.baseline: must be a string"):
        parse_config({"services": {"db": {**service, "baseline": 1}}}, root=tmp_path)


def test_declared_heads_are_accepted_and_a_different_set_is_reported(tmp_path):
    declared = MigrationChecker(
        history("two_heads", heads=("0002b", "0002a")), SQLiteScratch(tmp_path)
    )
    assert failures(declared.run()) == {}

    wrong = MigrationChecker(history("two_heads", heads=("0002a",)), SQLiteScratch(tmp_path))
    assert failures(wrong.run()) == {"heads": "heads are 0002a, 0002b; declared 0002a"}


def test_a_history_named_by_its_alembic_ini_is_read_as_alembic_reads_it(tmp_path):
    """config_file_name is set (env.py's fileConfig works), the script directory is a package
    resource, and both version locations are read."""
    ini = FIXTURES / "from_ini" / "alembic.ini"
    service = {"command": app_command(), "database": True, "migrations": str(ini)}
    (chosen,) = histories(parse_config({"services": {"db": service}}, root=tmp_path))

    results = MigrationChecker(chosen, SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    passed = {result.check for result in results if result.status == "passed"}
    assert {"upgrade", "stairway[0001]", "stairway[0002]", "downgrade_to_base"} <= passed


def test_migrations_may_name_a_script_directory_inside_an_installed_package(tmp_path):
    service = {"command": app_command(), "database": True}
    config = parse_config(
        {"services": {"db": {**service, "migrations": "fixtures.migrations:noop_downgrade"}}},
        root=tmp_path,
    )

    assert config.services["db"].migrations == FIXTURES / "noop_downgrade"
    with pytest.raises(ConfigError, match=r"nowhere\.at\.all, which is not an installed package"):
        parse_config(
            {"services": {"db": {**service, "migrations": "nowhere.at.all:migrations"}}},
            root=tmp_path,
        )


def test_the_models_check_honours_the_env_py_include_object_and_compare_choices(tmp_path):
    results = MigrationChecker(history("env_choices"), SQLiteScratch(tmp_path)).run()

    assert {r.check: r.status for r in results}["models"] == "passed"
    # create_all + stamp is harness's own comparison: the differences are real, and reported
    assert set(failures(results)) == {"fresh_install"}
    assert "table legacy: only upgraded" in failures(results)["fresh_install"]


def test_computed_columns_are_compared_and_filled_without_a_crash(tmp_path):
    results = MigrationChecker(history("computed"), SQLiteScratch(tmp_path)).run()

    assert failures(results) == {}
    assert {r.check: r.status for r in results}["models"] == "passed"


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


def test_an_env_py_connecting_to_a_url_of_its_own_never_reaches_that_database(
    tmp_path, monkeypatch
):
    own = tmp_path / "development.sqlite3"
    monkeypatch.setenv("FIXTURE_OWN_DATABASE_URL", f"sqlite:///{own}")
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    with pytest.raises(MigrationError, match="refused before it connected") as caught:
        MigrationChecker(history("own_url_from_environment"), SQLiteScratch(scratch)).run()

    assert "own_url_from_environment/env.py did not use the connection" in str(caught.value)
    assert not own.exists()  # SQLite would have made the file on connecting
    assert list(scratch.iterdir()) == []


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


def test_an_env_py_that_raises_fails_the_upgrade_naming_its_line_and_blocks_the_rest(
    tmp_path,
):
    results = MigrationChecker(history("env_raises"), SQLiteScratch(tmp_path)).run()

    assert [result.id for result in results] == planned(history("env_raises"))
    found = failures(results)
    assert set(found) == {"upgrade"}
    assert "running env.py raised RuntimeError: env.py needs settings" in found["upgrade"]
    assert "env_raises/env.py:8" in found["upgrade"]
    blocked = {r.check: r.detail for r in results if r.status == "skipped"}
    assert blocked["stairway[0001]"] == "not run: blocked by upgrade"
    assert {"heads", "offline[sqlite]"} <= {r.check for r in results if r.status == "passed"}
    assert list(tmp_path.iterdir()) == []


def test_create_all_failing_is_the_fresh_install_check_failure_and_the_rest_still_runs(
    tmp_path,
):
    results = MigrationChecker(history("create_all_fails"), SQLiteScratch(tmp_path)).run()

    found = failures(results)
    assert "create_all + stamp raised NoReferencedTableError" in found["fresh_install"]
    passed = {result.check for result in results if result.status == "passed"}
    assert {"upgrade", "idempotent", "stairway[0001]", "downgrade_to_base"} <= passed


def test_an_earlier_history_that_fails_fails_the_upgrade_of_the_next_naming_it(tmp_path):
    results = check_all(
        [history("env_raises"), history("leftover_column")], SQLiteScratch(tmp_path)
    )

    later = {r.check: r for r in results if r.history == "leftover_column"}
    assert later["upgrade"].status == "failed"
    assert "applying env_raises, which comes before leftover_column," in later["upgrade"].detail
    assert later["heads"].status == "passed"
    assert later["stairway[0002]"].detail == "not run: blocked by upgrade"


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
        ("noop_downgrade", {"stairway[0002]"}, "index items.ix_items_price: only after"),
        ("computed", set(), ""),
        ("needs_baseline", {"upgrade", "stairway[0002]"}, "declare them as its baseline"),
        ("widened_key", set(), ""),
        ("check_constraints", set(), ""),
        ("composite_key", set(), ""),
        ("uuid_text", set(), ""),
        ("data_fails_on_rows", {"stairway[0002]", "stairway[0003]"}, "upgrade to 000"),
        (
            "enum_left_behind",
            {"stairway[0002]", "downgrade_to_base"},
            "enum type mood: only after (happy, sad)",
        ),
    ],
)
def test_on_postgresql_each_history_gets_its_verdicts_enum_types_left_behind_included(
    postgres, name, checks, says
):
    config, record = postgres
    before = _databases(record)

    results = MigrationChecker(history(name), PostgresScratch(config, record, "t")).run()

    found = failures(results)
    assert set(found) == checks
    assert all(says in detail for detail in found.values()), found
    assert _databases(record) == before  # every scratch database dropped


def test_on_postgresql_an_env_py_with_its_own_url_leaves_that_database_untouched(
    postgres, monkeypatch
):
    config, record = postgres
    own = f"{record.name}_own"
    admin = admin_conninfo(record)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{own}"')
    try:
        monkeypatch.setenv("FIXTURE_OWN_DATABASE_URL", service_url(record, config, own))
        with pytest.raises(MigrationError, match="refused before it connected"):
            MigrationChecker(
                history("own_url_from_environment"), PostgresScratch(config, record, "o")
            ).run()
        with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{own}") as connection:
            tables = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        assert tables == []  # no version table: env.py never reached it
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{own}"')


@pytest.fixture
def check_with_invoke(tmp_path, monkeypatch):
    """`invoke migrations.check --db DB` on fixture history `name`, as a user runs it."""
    # the histories import tests/fixtures and services/common
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES.parents[1]), str(ROOT)]))

    def check(name: str, db: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "tasks.py").write_text("from harness.cli import namespace\n")
        (tmp_path / "pyproject.toml").write_text(
            "[tool.harness]\nstop_timeout = 2\n[tool.harness.services.api]\n"
            f'command = ["x", "{{port}}"]\ndatabase = true\nmigrations = "{FIXTURES / name}"\n'
        )
        return invoke(tmp_path, "migrations.check", "--db", db)

    return check


def test_the_notice_of_a_passed_check_is_printed_under_it(check_with_invoke):
    result = check_with_invoke("check_constraints", "sqlite")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    notice = lines.index("PASSED   api:data[0001]") + 1
    assert lines[notice].startswith("         at 0001: no rows generated in codes")


def test_a_no_op_downgrade_on_postgresql_is_a_verdict_naming_the_revision_not_a_traceback(
    check_with_invoke,
):
    """The round trip's database is dropped only once the checker's connection to it is
    closed (else the exit commit raised AdminShutdown and every verdict was lost)."""
    result = check_with_invoke("noop_downgrade", "postgres")

    assert result.returncode == 1, result.stderr
    assert "FAILED   api:stairway[0002]" in result.stdout
    assert "downgrade of 0002 leaves a trace: index items.ix_items_price" in result.stdout
    assert "1 failed" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout
