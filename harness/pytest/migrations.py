"""pytest plugin part: the migration checks of every history in `[tool.harness]` as tests.

A test that asks for `migration_result` runs once per check of every service's history
(`harness.migrations._checks.planned`), with ids like `records:stairway[0003]`. The checks
run on the back end of `--harness-db`, in databases made beside the run's (the run of
`--harness-run` when it is up, else a database-only run this session brings up and takes
down), one history at a time, when its first test needs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.db import History, ScratchDatabases, scratch_for
from harness.exceptions import ConfigError, HarnessError
from harness.infra import DatabaseRecord
from harness.migrations import CheckResult, MigrationChecker, histories, planned
from harness.pytest.plugin import attached_run, chosen_backend, fail_teardown, harness_config_of
from harness.stack import private_run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness").addoption(
        "--migrations-history",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this service's history (repeatable; default: every one)",
    )


def _selected(config: pytest.Config, harness_config: HarnessConfig) -> list[History]:
    try:
        return histories(harness_config, config.option.migrations_history)
    except ConfigError as exc:
        raise pytest.UsageError(f"--migrations-history: {exc}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for `migration_check` runs once per planned check."""
    if "migration_check" in metafunc.fixturenames:
        selected = _selected(metafunc.config, harness_config_of(metafunc.config))
        ids = [check for history in selected for check in planned(history)]
        metafunc.parametrize("migration_check", ids, ids=ids)


class MigrationResults:
    """The checks' results, each history checked once, on first demand, after the histories
    that come before it in the config."""

    def __init__(self, histories: list[History], scratch: ScratchDatabases) -> None:
        self._histories = histories
        self._scratch = scratch
        self._results: dict[str, CheckResult] = {}
        self._errors: dict[str, HarnessError] = {}

    def __getitem__(self, check_id: str) -> CheckResult:
        name = check_id.split(":", 1)[0]
        if name not in self._errors and check_id not in self._results:
            self._check(name)
        if name in self._errors:
            raise self._errors[name]
        return self._results[check_id]

    def _check(self, name: str) -> None:
        index = [history.name for history in self._histories].index(name)
        checker = MigrationChecker(
            self._histories[index], self._scratch, tuple(self._histories[:index])
        )
        try:
            self._results.update((result.id, result) for result in checker.run())
        except HarnessError as exc:
            self._errors[name] = exc


@pytest.fixture(scope="session")
def migration_database(
    request: pytest.FixtureRequest, harness_config: HarnessConfig
) -> Iterator[DatabaseRecord]:
    """The run database the checks' databases are made beside."""
    options = request.config.option
    attached = attached_run(harness_config, options.harness_run)
    if attached is not None and attached.database is not None:
        yield attached.database
        return
    with private_run(
        harness_config,
        options.harness_run or f"pytest-migrations-{os.getpid()}",
        chosen_backend(request.config, harness_config),
        fail_teardown,
        database_only=True,
    ) as state:
        assert state.database is not None
        yield state.database


@pytest.fixture(scope="session")
def migration_results(
    request: pytest.FixtureRequest,
    harness_config: HarnessConfig,
    migration_database: DatabaseRecord,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MigrationResults]:
    """Results of the checks, run on demand; their databases dropped at the end."""
    scratch = scratch_for(
        harness_config,
        migration_database,
        os.environ.get("PYTEST_XDIST_WORKER", "m"),
        Path(tmp_path_factory.mktemp("migrations")),
        tmpfs=True,
    )
    try:
        yield MigrationResults(_selected(request.config, harness_config), scratch)
    finally:
        scratch.close()


@pytest.fixture
def migration_result(migration_check: str, migration_results: MigrationResults) -> CheckResult:
    """The result of this test's check."""
    return migration_results[migration_check]
