"""Nox sessions for a monorepo under harness: what an adopter's noxfile calls.

    import nox
    from harness import nox as harness

    @nox.session
    @nox.parametrize("db", harness.backends())
    def contracts(session, db):
        session.install("-e", ".", "harness[contracts]")
        harness.live_tests(session, "contracts", db)

A package session records its run (`invoke reports.begin`), brings the stack up
(`invoke services.up`), runs pytest on the package's directory (when it exists) and on
the suite harness ships for it, with JUnit and coverage (every process, services
included) under the reports directory, and takes the stack down in a `finally`,
whatever happened. `-- --splits N --group K` runs shard K of N as a run of its own.

harness is installed beside Nox (the noxfile imports it). Only the standard library, nox
and harness's import-light modules (config, run ids, report paths) are used here: every
nox call, `nox -l` too, loads the noxfile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nox

from harness import settings
from harness.config import HarnessConfig, load_config
from harness.exceptions import HarnessError
from harness.infra import session_run_id
from harness.pytest.suites import SUITES
from harness.reports import ReportsLayout

PYPROJECT = "pyproject.toml"


def backends(pyproject: str | Path = PYPROJECT) -> list[str]:
    """`[tool.harness] backends`: the back ends every package session is parametrised over."""
    return list(_config(pyproject).backends)


@dataclass(frozen=True)
class SessionRun:
    """One package session's run: its id, environment, pytest report options and where its
    reports go."""

    run_id: str
    env: dict[str, str]
    report_args: list[str]
    layout: ReportsLayout


def begin(
    session: nox.Session,
    package: str,
    db: str | None,
    *,
    coverage: bool = True,
    pyproject: str | Path = PYPROJECT,
) -> SessionRun:
    """Record the run (`invoke reports.begin`); its id, environment and pytest options.

    The id is `<package>-<db>`, with `-<K>of<N>` for a shard. Coverage data goes to
    `<reports>/coverage/<run>/`, JUnit to `<reports>/junit/<run>.xml`.
    """
    config = _config(pyproject)
    shard = shard_of(session)
    run_id = session_run_id(package, db, shard)
    session.run(
        "invoke",
        "reports.begin",
        f"--run={run_id}",
        f"--package={package}",
        f"--config={pyproject}",
        *([f"--db={db}"] if db else []),
        *([f"--shard={shard[0]}/{shard[1]}"] if shard else []),
        silent=True,
    )
    layout = ReportsLayout(config.reports.dir)
    env = {settings.RUN_VARIABLE: run_id}
    if coverage:
        # every Python process of the run, services included (coverage's .pth hook)
        env["COVERAGE_PROCESS_START"] = str(layout.coverage_settings)
        env["COVERAGE_FILE"] = str(layout.coverage_data(run_id))
    report_args = [f"--junitxml={layout.junit(run_id)}", "-o", f"junit_suite_name={run_id}"]
    return SessionRun(run_id, env, report_args, layout)


def live_tests(
    session: nox.Session,
    package: str,
    db: str,
    *,
    tests: str | None = None,
    suite: str | None = None,
    pytest_args: Sequence[str] = (),
    coverage: bool = True,
    pyproject: str | Path = PYPROJECT,
) -> None:
    """services.up, pytest on the package and its shipped suite, services.down in a finally.

    `tests` is the package's test directory (default: the package's name; none is needed);
    `suite` the shipped suite (default: the one named like the package, if any);
    `pytest_args` come before the session's posargs, which can override them.
    """
    run = begin(session, package, db, coverage=coverage, pyproject=pyproject)
    lifecycle = run.layout.lifecycle_junit(run.run_id)
    session.run(
        "invoke",
        "services.up",
        f"--db={db}",
        f"--run={run.run_id}",
        f"--config={pyproject}",
        "--auto-ports",
        f"--lifecycle-junit={lifecycle}",
        env=run.env,
    )
    try:
        _pytest(session, run, tests or package, suite or _suite(package), pytest_args, pyproject)
    finally:
        session.run(
            "invoke", "services.down", f"--run={run.run_id}", f"--config={pyproject}", env=run.env
        )


def database_tests(
    session: nox.Session,
    package: str,
    db: str,
    *,
    tests: str | None = None,
    suite: str | None = None,
    pytest_args: Sequence[str] = (),
    pyproject: str | Path = PYPROJECT,
) -> None:
    """pytest on the package and its shipped suite with no service started (the migration
    checks make and drop databases of their own on back end `db`); arguments as for
    `live_tests`."""
    run = begin(session, package, db, pyproject=pyproject)
    _pytest(
        session,
        run,
        tests or package,
        suite or _suite(package),
        [f"--harness-db={db}", f"--harness-run={run.run_id}", *pytest_args],
        pyproject,
    )


def report(session: nox.Session, pyproject: str | Path = PYPROJECT) -> None:
    """Merge every run's JUnit and coverage, write the summary; fails on a coverage gate."""
    session.run("invoke", "reports.merge", f"--config={pyproject}")


def shard_of(session: nox.Session) -> tuple[int, int] | None:
    """(K, N) when the posargs ask pytest-split for `--splits N --group K`, else None."""
    found: dict[str, str] = {}
    arguments = list(session.posargs)
    for flag in ("--splits", "--group"):
        for position, argument in enumerate(arguments):
            if argument == flag and position + 1 < len(arguments):
                found[flag] = arguments[position + 1]
            elif argument.startswith(f"{flag}="):
                found[flag] = argument.partition("=")[2]
    if not found:
        return None
    splits, group = found.get("--splits", ""), found.get("--group", "")
    if not (splits.isdigit() and group.isdigit() and 1 <= int(group) <= int(splits)):
        session.error(f"give both --splits N and --group K with 1 <= K <= N, got {found}")
    return int(group), int(splits)


def names_tests(posargs: Sequence[str]) -> bool:
    """The posargs name tests to run (`workflows/test_x.py`, `tests/a.py::test_b`): then
    those run instead of the whole package. Only Python files count, so an option's value
    that happens to exist (`--junitxml out.xml`, `--basetemp tmp`) does not."""
    files = (Path(argument.partition("::")[0]) for argument in posargs if argument[:1] != "-")
    return any(path.suffix == ".py" and path.is_file() for path in files)


def _suite(package: str) -> str | None:
    return package if package in SUITES else None


def _pytest(
    session: nox.Session,
    run: SessionRun,
    tests: str,
    suite: str | None,
    pytest_args: Sequence[str],
    pyproject: str | Path,
) -> None:
    """pytest on the `tests` directory (when it exists) and the shipped `suite`, or on the
    tests the posargs name alone."""
    paths = [tests] if (Path(pyproject).resolve().parent / tests).is_dir() else []
    if names_tests(session.posargs):
        paths, suite = [], None
    elif not paths and suite is None:
        session.error(f"no directory {tests}/ and no suite of harness to run")
    session.run(
        "pytest",
        *paths,
        *([f"--harness-suite={suite}"] if suite else []),
        f"--harness-config={pyproject}",
        *run.report_args,
        *pytest_args,
        *session.posargs,
        env=run.env,
    )


def _config(pyproject: str | Path) -> HarnessConfig:
    try:
        return load_config(pyproject)
    except HarnessError as exc:
        raise SystemExit(f"harness: {exc}") from None


__all__ = [
    "SessionRun",
    "backends",
    "begin",
    "database_tests",
    "live_tests",
    "report",
    "shard_of",
]
