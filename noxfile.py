"""Nox sessions: each test package over each back end, the toolkit's own tests, lint, report.

`nox` runs them all; `nox -s workflows` runs both back ends of a package;
`nox -s "workflows(db='sqlite')"` one. The package sessions are harness's own Nox helpers
(`harness.nox`), as an adopting monorepo uses them: the stack up, pytest on the package
and the suite harness ships for it, the stack down in a `finally`, whatever happened.
"""

from __future__ import annotations

from pathlib import Path

import nox

from harness import nox as harness  # installed beside Nox, as an adopter installs it

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *extras: str, dev: bool = False) -> None:
    """The toolkit (with `extras`, its sharding plugins and the Redis client the `redis`
    fixture uses) and the reference services' dependencies (and the `dev` group's)."""
    groups = ["reference", *(["dev"] if dev else [])]
    requirements = nox.project.dependency_groups(PYPROJECT, *groups)
    session.install("-e", f".[{','.join(['shards', 'redis', *extras])}]", *requirements)


@nox.session
@nox.parametrize("db", harness.backends())
def contracts(session: nox.Session, db: str) -> None:
    """Contract tests, the drift, breaking-change and conformance gates, generated tests.

    `nox -s contracts -- --contracts-base REV` judges breaking changes against REV.
    """
    _install(session, "contracts")
    harness.live_tests(session, "contracts", db)


@nox.session
@nox.parametrize("db", harness.backends())
def workflows(session: nox.Session, db: str) -> None:
    """Cross-service workflows, dependency faults, transactions; two xdist workers.

    `nox -s workflows -- -n 0` runs them in one process.
    """
    _install(session)
    harness.live_tests(session, "workflows", db, pytest_args=["-n", "2"])


@nox.session
@nox.parametrize("db", harness.backends())
def migrations(session: nox.Session, db: str) -> None:
    """Every service's Alembic history checked on one back end (no services started).

    `nox -s migrations -- --migrations-history records` checks one history.
    """
    _install(session)
    harness.database_tests(session, "migrations", db, tests="migrations_tests")


@nox.session
@nox.parametrize("db", harness.backends())
def perf(session: nox.Session, db: str) -> None:
    """Load scenarios of perf/ against the stack: budgets, baseline, reports/perf/<db>.*.

    Not under coverage, which would slow the services it measures.
    `nox -s perf -- --perf-scenario drafting` runs one scenario.
    """
    _install(session)
    harness.live_tests(session, "perf", db, coverage=False)


@nox.session
def tests(session: nox.Session) -> None:
    """The toolkit's own tests: real processes, sockets and PostgreSQL (and nox, for the
    CI plan)."""
    _install(session, "contracts", dev=True)
    run = harness.begin(session, "tests", None)
    paths = [] if harness.names_tests(session.posargs) else ["tests"]
    session.run("pytest", *paths, *run.report_args, *session.posargs, env=run.env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy on harness/; the CI workflows audited by zizmor
    (offline) and validated against the workflow schema check-jsonschema ships."""
    _install(session, dev=True)
    # no cache: a cached verdict survived a new root conftest.py that changed import sorting
    session.run("ruff", "check", "--no-cache", ".")
    session.run("ruff", "format", "--check", "--no-cache", ".")
    session.run("mypy")
    workflows = sorted(str(path) for path in Path(".github/workflows").glob("*.y*ml"))
    session.run("zizmor", "--offline", *workflows)
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)


@nox.session
def report(session: nox.Session) -> None:
    """Merge every session's JUnit and coverage: reports/junit.xml, coverage.xml,
    coverage-html/, summary.md. Fails on a coverage gate or a missing or corrupt input."""
    _install(session)
    harness.report(session)
