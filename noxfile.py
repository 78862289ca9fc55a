"""Nox sessions: each test package over each back end, the toolkit's own tests, lint.

`nox` runs them all; `nox -s workflows` runs both back ends of a package;
`nox -s "workflows(db='sqlite')"` one. Every package session brings the stack up with
`invoke services.up`, runs pytest against it, and takes it down in a `finally`, whatever
happened; `migrations` starts no service: its pytest run makes and drops its own databases.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
REPORTS = ROOT / "reports"
DATABASES = ["sqlite", "postgres"]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True


def _install(session: nox.Session, extras: str = "") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")


def _coverage_env() -> dict[str, str]:
    """Measure every Python process of the session, services included (coverage's .pth hook)."""
    (REPORTS / "coverage").mkdir(parents=True, exist_ok=True)
    return {"COVERAGE_PROCESS_START": str(ROOT / "pyproject.toml")}


def _run_package_live(
    session: nox.Session,
    package: str,
    db: str,
    extras: str = "",
    pytest_args: list[str] | None = None,
    coverage: bool = True,
) -> None:
    """services.up, pytest on the package with JUnit (+ coverage), services.down in a finally.

    `pytest_args` come before the session's posargs, which can override them.
    """
    _install(session, extras)
    run_id = f"{package}-{db}"
    (REPORTS / "junit").mkdir(parents=True, exist_ok=True)
    env = {**(_coverage_env() if coverage else {}), "HARNESS_RUN": run_id}
    session.run("invoke", "services.up", "--db", db, "--run", run_id, "--auto-ports", env=env)
    try:
        session.run(
            "pytest",
            package,
            f"--junitxml={REPORTS / 'junit' / f'{run_id}.xml'}",
            "-o",
            f"junit_suite_name={run_id}",
            *(pytest_args or []),
            *session.posargs,
            env=env,
        )
    finally:
        session.run("invoke", "services.down", "--run", run_id, env=env)


@nox.session
@nox.parametrize("db", DATABASES)
def contracts(session: nox.Session, db: str) -> None:
    """Contract tests, the drift, breaking-change and conformance gates, generated tests.

    `nox -s contracts -- --contracts-base REV` judges breaking changes against REV.
    """
    _run_package_live(session, "contracts", db, extras="contracts")


@nox.session
@nox.parametrize("db", DATABASES)
def workflows(session: nox.Session, db: str) -> None:
    """Cross-service workflows, dependency faults, transactions; two xdist workers.

    `nox -s workflows -- -n 0` runs them in one process.
    """
    _run_package_live(session, "workflows", db, extras="workflows", pytest_args=["-n", "2"])


@nox.session
@nox.parametrize("db", DATABASES)
def migrations(session: nox.Session, db: str) -> None:
    """Every service's Alembic history checked on one back end (no services started).

    `nox -s migrations -- --migrations-history records` checks one history.
    """
    _install(session)
    run_id = f"migrations-{db}"
    (REPORTS / "junit").mkdir(parents=True, exist_ok=True)
    session.run(
        "pytest",
        "migrations_tests",
        f"--harness-db={db}",
        f"--harness-run={run_id}",
        f"--junitxml={REPORTS / 'junit' / f'{run_id}.xml'}",
        "-o",
        f"junit_suite_name={run_id}",
        *session.posargs,
        env=_coverage_env(),
    )


@nox.session
@nox.parametrize("db", DATABASES)
def perf(session: nox.Session, db: str) -> None:
    """Load scenarios of perf/ against the stack: budgets, baseline, reports/perf/<db>.*.

    Not under coverage, which would slow the services it measures.
    `nox -s perf -- --perf-scenario drafting` runs one scenario.
    """
    _run_package_live(session, "perf", db, coverage=False)


@nox.session
def tests(session: nox.Session) -> None:
    """The toolkit's own tests: real processes, sockets and PostgreSQL."""
    _install(session)
    (REPORTS / "junit").mkdir(parents=True, exist_ok=True)
    session.run(
        "pytest",
        "tests",
        f"--junitxml={REPORTS / 'junit' / 'tests.xml'}",
        "-o",
        "junit_suite_name=tests",
        *session.posargs,
        env=_coverage_env(),
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy on harness/."""
    session.install("-e", ".[dev]")
    # no cache: a cached verdict survived a new root conftest.py that changed import sorting
    session.run("ruff", "check", "--no-cache", ".")
    session.run("ruff", "format", "--check", "--no-cache", ".")
    session.run("mypy")
