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
    """The project with its sharding plugins (pytest-split, pytest-xdist) and `extras`."""
    session.install("-e", f".[{','.join(filter(None, ['shards', extras]))}]")


def _shard(session: nox.Session) -> str | None:
    """'K/N' when the posargs ask pytest-split for `--splits N --group K`, else None."""
    found: dict[str, str] = {}
    for flag in ("--splits", "--group"):
        for position, argument in enumerate(session.posargs):
            if argument == flag and position + 1 < len(session.posargs):
                found[flag] = session.posargs[position + 1]
            elif argument.startswith(f"{flag}="):
                found[flag] = argument.partition("=")[2]
    if not found:
        return None
    splits, group = found.get("--splits", ""), found.get("--group", "")
    if not (splits.isdigit() and group.isdigit() and 1 <= int(group) <= int(splits)):
        session.error(f"give both --splits N and --group K with 1 <= K <= N, got {found}")
    return f"{group}/{splits}"


def _begin_run(
    session: nox.Session, package: str, db: str | None, coverage: bool = True
) -> tuple[str, dict[str, str], list[str]]:
    """Record the run (`invoke reports.begin`); its id, environment and pytest report options.

    The id is `<package>-<db>`, with `-<K>of<N>` for a shard. Coverage data goes to
    reports/coverage/<run>/, JUnit to reports/junit/<run>.xml (harness.run_records' layout).
    """
    shard = _shard(session)
    run_id = "-".join(filter(None, [package, db]))
    if shard:
        run_id += "-{}of{}".format(*shard.split("/"))
    session.run(
        "invoke",
        "reports.begin",
        f"--run={run_id}",
        f"--package={package}",
        *([f"--db={db}"] if db else []),
        *([f"--shard={shard}"] if shard else []),
        silent=True,
    )
    env = {"HARNESS_RUN": run_id}
    if coverage:
        # every Python process of the run, services included (coverage's .pth hook)
        env["COVERAGE_PROCESS_START"] = str(ROOT / "pyproject.toml")
        env["COVERAGE_FILE"] = str(REPORTS / "coverage" / run_id / ".coverage")
    junit = [
        f"--junitxml={REPORTS / 'junit' / f'{run_id}.xml'}",
        "-o",
        f"junit_suite_name={run_id}",
    ]
    return run_id, env, junit


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
    run_id, env, junit = _begin_run(session, package, db, coverage)
    lifecycle = REPORTS / "junit" / f"{run_id}.lifecycle.xml"
    session.run(
        "invoke",
        "services.up",
        f"--db={db}",
        f"--run={run_id}",
        "--auto-ports",
        f"--lifecycle-junit={lifecycle}",
        env=env,
    )
    try:
        session.run("pytest", package, *junit, *(pytest_args or []), *session.posargs, env=env)
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
    _run_package_live(session, "workflows", db, pytest_args=["-n", "2"])


@nox.session
@nox.parametrize("db", DATABASES)
def migrations(session: nox.Session, db: str) -> None:
    """Every service's Alembic history checked on one back end (no services started).

    `nox -s migrations -- --migrations-history records` checks one history.
    """
    _install(session)
    run_id, env, junit = _begin_run(session, "migrations", db)
    session.run(
        "pytest",
        "migrations_tests",
        f"--harness-db={db}",
        f"--harness-run={run_id}",
        *junit,
        *session.posargs,
        env=env,
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
    """The toolkit's own tests: real processes, sockets and PostgreSQL (and nox, for the
    CI plan)."""
    _install(session, "dev")
    _, env, junit = _begin_run(session, "tests", None)
    session.run("pytest", "tests", *junit, *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy on harness/; the CI workflows audited by zizmor
    (offline) and validated against the workflow schema check-jsonschema ships."""
    session.install("-e", ".[dev]")
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
    session.run("invoke", "reports.merge")
