"""[tool.harness] validation: every mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import app_command, config_error
from harness.config._project import load_config, parse_config, script_location
from harness.exceptions import ConfigError

GOOD = {"command": app_command()}


@pytest.mark.parametrize(
    "table, key, hint",
    [
        (
            {"services": {"a": GOOD}, "start_timeot": 3},
            "tool.harness.start_timeot",
            "did you mean 'start_timeout'",
        ),
        (
            {"services": {"a": {**GOOD, "helth": "/h"}}},
            "tool.harness.services.a.helth",
            "did you mean 'health'",
        ),
        ({"services": {"a": {"port": 9000}}}, "tool.harness.services.a.command", "missing"),
        (
            {"services": {"a": {"command": "python app.py"}}},
            "tool.harness.services.a.command",
            "list of strings",
        ),
        (
            {"services": {"a": {"command": ["python", "app.py"]}}},
            "tool.harness.services.a.command",
            "{port}",
        ),
        (
            {"services": {"a": {**GOOD, "depends_on": ["recrods"]}, "records": GOOD}},
            "tool.harness.services.a.depends_on",
            "did you mean 'records'",
        ),
        (
            {"services": {"a": {**GOOD, "depends_on": ["b"]}, "b": {**GOOD, "depends_on": ["a"]}}},
            "tool.harness.services.a.depends_on",
            "cycle a -> b -> a",
        ),
        (
            {"services": {"a": {**GOOD, "depends_on": ["a"]}}},
            "tool.harness.services.a.depends_on",
            "cycle a -> a",
        ),
        ({"services": {"a": {**GOOD, "port": 80}}}, "tool.harness.services.a.port", "1024"),
        (
            {"services": {"a": {**GOOD, "port": 9000}, "b": {**GOOD, "port": 9000}}},
            "tool.harness.services.b.port",
            "already the port of 'a'",
        ),
        (
            {"services": {"a": {**GOOD, "health": "health"}}},
            "tool.harness.services.a.health",
            "'/'",
        ),
        (
            {"services": {"a": {**GOOD, "migrations": "migrations"}}},
            "tool.harness.services.a.migrations",
            "database = true",
        ),
        (
            {"services": {"a": {**GOOD, "database": True, "migrations": "nowhere"}}},
            "tool.harness.services.a.migrations",
            "no env.py",
        ),
        (
            {"services": {"a": {**GOOD, "metadata": "models:Base.metadata"}}},
            "tool.harness.services.a.metadata",
            "needs migrations set",
        ),
        (
            {"services": {"a": {**GOOD, "heads": "0002"}}},
            "tool.harness.services.a.heads",
            "list of revision ids",
        ),
        (
            {"services": {"a": {**GOOD, "database": True, "migrations": "alembic.ini"}}},
            "tool.harness.services.a.migrations",
            "no [alembic] script_location",
        ),
        (
            {"services": {"a": {**GOOD, "start_timeout": -1}}},
            "tool.harness.services.a.start_timeout",
            "positive",
        ),
        ({"services": {"a": GOOD}, "backends": ["mysql"]}, "tool.harness.backends", "'mysql'"),
        ({"services": {}}, "tool.harness.services", "at least one"),
        (
            {"services": {"a": GOOD}, "postgres": {"bindir": "/x"}},
            "tool.harness.postgres.bindir",
            "did you mean 'bin_dir'",
        ),
        (
            {"services": {"a": {**GOOD, "openapi": "openapi.json"}}},
            "tool.harness.services.a.openapi",
            "e.g. '/openapi.json'",
        ),
        (
            {"services": {"a": GOOD}, "contracts": {"base_brach": "trunk"}},
            "tool.harness.contracts.base_brach",
            "did you mean 'base_branch'",
        ),
        ({"services": {"a": GOOD}, "contracts": "c"}, "tool.harness.contracts", "a table"),
        (
            {"services": {"a": {**GOOD, "prestart": "python seed.py"}}},
            "tool.harness.services.a.prestart",
            "a command or a list of commands",
        ),
        (
            {"services": {"a": {**GOOD, "framework_statuses": [422]}}},
            "tool.harness.services.a.framework_statuses",
            "needs openapi set",
        ),
        (
            {"services": {"a": {**GOOD, "openapi": "/o", "framework_statuses": ["422"]}}},
            "tool.harness.services.a.framework_statuses",
            "e.g. [405, 422]",
        ),
        (
            {"services": {"a": {**GOOD, "openapi": "/o", "contract_gaps": {"x": ""}}}},
            "tool.harness.services.a.contract_gaps",
            "the reason",
        ),
        (
            {"services": {"a": {**GOOD, "openapi": "/o", "generated_examples": 0}}},
            "tool.harness.services.a.generated_examples",
            "at least 1",
        ),
        (
            {"services": {"a": GOOD}, "contracts": {"seed": "x"}},
            "tool.harness.contracts.seed",
            "whole number",
        ),
        (
            {"services": {"a": GOOD}, "contracts": {"invalid_statuses": [422, 500]}},
            "tool.harness.contracts.invalid_statuses",
            "a list of 4xx statuses, e.g. [400, 422], got [422, 500]",
        ),
        (
            {"services": {"a": GOOD}, "pythonpath": ["nowhere"]},
            "tool.harness.pythonpath",
            "no such",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_the_key(tmp_path, table, key, hint):
    (tmp_path / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = sqlite://\n")
    message = config_error(table, tmp_path)

    assert message.startswith(key + ":")
    assert hint in message


def test_valid_config_is_typed_with_defaults(tmp_path):
    config = parse_config(
        {"services": {"api": {**GOOD, "port": 9000, "database": True}}}, root=tmp_path
    )

    service = config.services["api"]
    assert service.port == 9000
    assert service.health == "/health"
    assert service.depends_on == ()
    assert service.start_timeout == 30.0
    assert service.url_variable == "API_SERVICE_URL"
    assert config.backends == ("sqlite", "postgres")
    assert config.run_dir == tmp_path / ".harness"
    assert config.under_contract() == []
    assert config.contracts.base_branch == "main"
    assert config.contract_path("api") == tmp_path / "contracts" / "api.json"


def test_prestart_takes_one_command_or_several(tmp_path):
    one = parse_config({"services": {"a": {**GOOD, "prestart": ["seed", "x"]}}}, root=tmp_path)
    several = parse_config(
        {"services": {"a": {**GOOD, "prestart": [["migrate"], ["seed", "x"]]}}}, root=tmp_path
    )

    assert one.services["a"].prestart == (("seed", "x"),)
    assert several.services["a"].prestart == (("migrate",), ("seed", "x"))


def test_services_with_openapi_are_under_contract(tmp_path):
    config = parse_config(
        {
            "services": {"api": {**GOOD, "openapi": "/openapi.json"}, "worker": GOOD},
            "contracts": {"dir": "api/contracts", "base_branch": "trunk"},
        },
        root=tmp_path,
    )

    assert [service.name for service in config.under_contract()] == ["api"]
    assert config.contract_path("api") == tmp_path / "api" / "contracts" / "api.json"
    assert config.contracts.base_branch == "trunk"
    assert config.contracts.invalid_statuses is None  # schemathesis' own list


def test_invalid_statuses_name_what_refuses_a_request_as_invalid(tmp_path):
    table = {"services": {"a": GOOD}, "contracts": {"invalid_statuses": [400, 422]}}

    assert parse_config(table, root=tmp_path).contracts.invalid_statuses == (400, 422)


def test_start_order_groups_independent_services_in_levels(tmp_path):
    config = parse_config(
        {
            "services": {
                "web": {**GOOD, "depends_on": ["api", "auth"]},
                "api": {**GOOD, "depends_on": ["db-proxy"]},
                "auth": GOOD,
                "db-proxy": GOOD,
            }
        },
        root=tmp_path,
    )

    assert config.start_order() == [["auth", "db-proxy"], ["api"], ["web"]]


def test_load_config_reports_missing_file_table_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.harness\] table"):
        load_config(tmp_path / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("[tool.harness\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "pyproject.toml")


def test_load_config_given_a_directory_says_to_pass_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"is a directory; pass its pyproject\.toml"):
        load_config(tmp_path)


def test_the_repository_config_is_valid():
    config = load_config(Path(__file__).parents[2] / "pyproject.toml")

    assert config.services
    assert all(service.command for service in config.services.values())


def test_migrations_may_name_an_alembic_ini_whose_script_location_is_used(tmp_path):
    (tmp_path / "db" / "versions").mkdir(parents=True)
    (tmp_path / "db" / "env.py").write_text("")
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/db\n")
    service = {**GOOD, "database": True, "migrations": "alembic.ini", "minimum_downgrade": "0002"}

    config = parse_config({"services": {"a": service}}, root=tmp_path)

    assert script_location(config.services["a"].migrations) == tmp_path / "db"
    assert config.services["a"].minimum_downgrade == "0002"


@pytest.mark.parametrize(
    ("run_dir", "says"),
    [
        ("/", "is a system directory"),
        ("/tmp", "is a system directory"),
        ("~", None),  # a literal directory named '~' in the project: fine
        (".", "holds the project"),
        ("..", "holds the project"),
        ("sub/../..", "holds the project"),
    ],
)
def test_a_run_dir_that_is_not_a_directory_of_its_own_is_refused_even_when_forced(
    tmp_path, run_dir, says
):
    for forced in (False, True):
        table = {"services": {"a": GOOD}, "run_dir": run_dir, "run_dir_outside_project": forced}
        if says is None:
            assert parse_config(table, root=tmp_path).run_dir == tmp_path / run_dir
            continue
        message = config_error(table, tmp_path)
        assert message.startswith(f"tool.harness.run_dir: {run_dir!r} (")
        assert says in message and "e.g. '.harness'" in message


def test_the_home_directory_is_refused_as_run_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    message = config_error(
        {
            "services": {"a": GOOD},
            "run_dir": str(tmp_path / "home"),
            "run_dir_outside_project": True,
        },
        tmp_path / "project",
    )

    assert "is the home directory" in message


def test_a_run_dir_outside_the_project_needs_to_be_forced(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    elsewhere = tmp_path / "runs-elsewhere"
    (project / "link").symlink_to(elsewhere, target_is_directory=True)

    for run_dir in (str(elsewhere), "../runs-elsewhere", "link"):
        message = config_error({"services": {"a": GOOD}, "run_dir": run_dir}, project)
        assert message == (
            f"tool.harness.run_dir: {run_dir!r} ({elsewhere}) is outside the project {project}; "
            "use a directory under it (default '.harness'), or set "
            "tool.harness.run_dir_outside_project = true to keep runs there on purpose"
        )
        forced = {"services": {"a": GOOD}, "run_dir": run_dir, "run_dir_outside_project": True}
        assert parse_config(forced, root=project).run_dir == project / run_dir
    assert not elsewhere.exists()  # refusing or accepting, validation writes nothing


@pytest.mark.parametrize("flag", ["run_dir_outside_project", "bytecode_cache"])
def test_a_flag_must_be_a_boolean(tmp_path, flag):
    message = config_error({"services": {"a": GOOD}, flag: "yes"}, tmp_path)

    assert message == f"tool.harness.{flag}: must be true or false, got 'yes'"


def test_outbound_is_loopback_unless_allowed(tmp_path):
    assert parse_config({"services": {"a": GOOD}}, root=tmp_path).outbound == "loopback"
    allowed = parse_config({"services": {"a": GOOD}, "outbound": "allow"}, root=tmp_path)
    assert allowed.outbound == "allow"
    message = config_error({"services": {"a": GOOD}, "outbound": "internet"}, tmp_path)
    assert message.startswith("tool.harness.outbound: must be 'loopback'")
    assert message.endswith("got 'internet'")
