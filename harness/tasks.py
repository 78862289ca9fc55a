"""Invoke tasks: `services.up|down|status|logs|restart`, `ports.clean`, `contracts.export|check`,
`migrations.check`, `perf.baseline`, `reports.begin|merge`.

A monorepo's own tasks.py exposes them with `from harness.tasks import namespace`.
Every expected failure exits non-zero with harness's one-screen message, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from invoke import Collection, Context, Exit, task

from harness import perf_baseline
from harness.clones import scratch_for
from harness.config import HarnessConfig, load_config
from harness.contracts import base_revision, fetch_document, verdict_since, write_contract
from harness.coverage_config import write_coverage_settings
from harness.exceptions import HarnessError
from harness.masking import mask_secrets
from harness.migration_checks import check_all, histories
from harness.perf import measure
from harness.perf_results import PerfResults
from harness.perf_scenarios import PerfPlan, load_plan
from harness.processes import log_tail
from harness.report import build
from harness.run_records import ReportsLayout, RunRecord, git_revision
from harness.stack import Stack, Teardown, clean_stale_runs
from harness.state import RunState

RUN_VARIABLE = "HARNESS_RUN"
DEFAULT_RUN = "default"
Task = TypeVar("Task", bound=Callable[..., Any])


def _reports_errors(function: Task) -> Task:
    """Turn a HarnessError into `Exit(message, code=1)`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except HarnessError as exc:
            raise Exit(f"harness: {mask_secrets(str(exc))}", code=1) from None
        except KeyboardInterrupt:
            raise Exit(
                "harness: interrupted; everything this command started was stopped", code=130
            ) from None

    return wrapper  # type: ignore[return-value]


def _project(config: str) -> HarnessConfig:
    """`[tool.harness]` of the project, its code importable here (`pythonpath`)."""
    harness_config = load_config(config)
    harness_config.make_importable()
    return harness_config


def _stack(run: str | None, config: str) -> Stack:
    return Stack(_project(config), run or os.environ.get(RUN_VARIABLE, DEFAULT_RUN))


def _print_teardown(report: Teardown) -> None:
    stopped = ", ".join(report.stopped) or "nothing was running"
    state = "stopped, still owing what is below" if report.owed else "down"
    print(f"run {report.run_id!r} {state}: stopped {stopped}")
    for note in report.notes:
        print(f"  note: {note}")
    for problem in report.problems:
        print(f"  problem: {mask_secrets(problem)}", file=sys.stderr)


@contextlib.contextmanager
def _private_stack(
    harness_config: HarnessConfig,
    purpose: str,
    db: str | None,
    *,
    auto_ports: bool = False,
    database_only: bool = False,
) -> Iterator[RunState]:
    """A run of this task's own (`<purpose>-<pid>`) on `db` (default: the first back end),
    taken down on the way out; only a teardown with problems is reported."""
    stack = Stack(harness_config, f"{purpose}-{os.getpid()}")
    backend = db or harness_config.backends[0]
    state = stack.up(backend, auto_ports=auto_ports, database_only=database_only)
    try:
        yield state
    finally:
        report = stack.down()
        if not report.ok:
            _print_teardown(report)


_COMMON_HELP = {
    "run": f"run id (default: ${RUN_VARIABLE} or {DEFAULT_RUN!r})",
    "config": "pyproject.toml holding [tool.harness]",
}
_DB_HELP = "back end: sqlite or postgres (default: the first of [tool.harness] backends)"


@task(
    help={
        **_COMMON_HELP,
        "db": _DB_HELP,
        "auto_ports": "use free ports instead of the configured ones",
        "coverage": "measure the services with coverage (COVERAGE_PROCESS_START)",
        "keep": "keep the run up after the process that ran this command (the Nox session "
        "or shell) ends; by default the run's reaper then takes it down",
        "lifecycle_junit": "write each service's start and stop as JUnit cases to this file "
        "(on a failed start, and at services.down)",
    }
)
@_reports_errors
def up(
    c: Context,
    db: str | None = None,
    run: str | None = None,
    auto_ports: bool = False,
    coverage: bool = False,
    keep: bool = False,
    lifecycle_junit: str | None = None,
    config: str = "pyproject.toml",
) -> None:
    """Start every service of the run, healthy, on the chosen back end; the run belongs to
    the process that ran this command and goes down when it ends (unless --keep)."""
    stack = _stack(run, config)
    db = db or stack.config.backends[0]
    started = time.perf_counter()
    state = stack.up(
        db,
        auto_ports=auto_ports,
        coverage=coverage,
        detach=keep,
        owner_pid=os.getppid(),
        lifecycle_junit=Path(lifecycle_junit) if lifecycle_junit else None,
    )
    print(f"run {stack.run_id!r} up on {db} in {time.perf_counter() - started:.2f} s")
    if state.database is not None:
        print(f"  database  {state.database.display_url}")
    for record in state.services.values():
        print(f"  {record.name:<12} {record.url}  pid {record.process.pid}")


@task(help=_COMMON_HELP)
@_reports_errors
def down(c: Context, run: str | None = None, config: str = "pyproject.toml") -> None:
    """Stop the run's services, drop its database, free its ports."""
    stack = _stack(run, config)
    if not stack.run.path.is_dir():
        print(f"run {stack.run_id!r} is not up; nothing to do")
        return
    report = stack.down()
    _print_teardown(report)
    if not report.ok:
        raise Exit(code=1)


@task(help=_COMMON_HELP)
@_reports_errors
def status(c: Context, run: str | None = None, config: str = "pyproject.toml") -> None:
    """A table of the run's services: pid, port, URL, healthy, uptime."""
    rows = _stack(run, config).status()
    print(f"{'service':<12} {'pid':>7} {'port':>6}  {'url':<24} {'healthy':<8} {'uptime':>8}")
    for row in rows:
        healthy = "yes" if row.healthy else ("no" if row.running else "exited")
        print(
            f"{row.name:<12} {row.pid:>7} {row.port:>6}  {row.url:<24} {healthy:<8} "
            f"{row.uptime:>7.1f}s"
        )
    if not all(row.healthy for row in rows):
        raise Exit(code=1)


@task(
    help={
        **_COMMON_HELP,
        "service": "only this service's log (repeatable; default: every service's)",
        "follow": "keep printing new lines",
        "lines": "how many lines to show",
    },
    iterable=["service"],
)
@_reports_errors
def logs(
    c: Context,
    service: list[str] | None = None,
    run: str | None = None,
    follow: bool = False,
    lines: int = 40,
    config: str = "pyproject.toml",
) -> None:
    """Show the end of the services' logs (live run, else the archived logs of the last one)."""
    stack = _stack(run, config)
    directory = (
        stack.run.logs
        if stack.run.logs.is_dir()
        else (stack.config.run_dir / "logs" / stack.run_id)
    )
    paths = sorted(directory.glob("*.log")) if directory.is_dir() else []
    if service:
        paths = [p for p in paths if p.stem in service]
    if not paths:
        raise Exit(
            f"harness: no logs for {', '.join(service or []) or 'any service'} of run "
            f"{stack.run_id!r} in {directory}",
            code=1,
        )
    for path in paths:
        print(f"==> {path} <==")
        print(log_tail(path, lines))
    if follow:
        _follow(paths)


def _follow(paths: list[Path]) -> None:
    """Print lines appended to `paths` until Ctrl-C."""
    offsets = {path: path.stat().st_size for path in paths}
    try:
        while True:
            for path in paths:
                with open(path, "rb") as file:
                    file.seek(offsets[path])
                    chunk = file.read()
                    offsets[path] = file.tell()
                for line in chunk.decode(errors="replace").splitlines():
                    print(f"{path.stem}: {mask_secrets(line)}", flush=True)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


@task(help={**_COMMON_HELP, "service": "the service to restart"})
@_reports_errors
def restart(
    c: Context, service: str, run: str | None = None, config: str = "pyproject.toml"
) -> None:
    """Stop one service and start it again on the same port."""
    record = _stack(run, config).restart(service)
    print(f"{service} restarted: {record.url} pid {record.process.pid}")


@task(name="clean", help={"config": _COMMON_HELP["config"]})
@_reports_errors
def clean_ports(c: Context, config: str = "pyproject.toml") -> None:
    """Take down runs whose owner died, and free their ports. Never touches other programs."""
    reports = clean_stale_runs(_project(config))
    if not reports:
        print("no stale run; nothing to clean")
    for report in reports:
        _print_teardown(report)
    if not all(report.ok for report in reports):
        raise Exit(code=1)


@task(name="export", help={"config": _COMMON_HELP["config"], "db": _DB_HELP})
@_reports_errors
def export_contracts(c: Context, db: str | None = None, config: str = "pyproject.toml") -> None:
    """Write each service's OpenAPI document, read from a private live stack, as its contract."""
    harness_config = _project(config)
    under_contract = harness_config.under_contract()
    if not under_contract:
        raise Exit("harness: no service sets `openapi`; there is no contract to export", code=1)
    with _private_stack(harness_config, "contracts-export", db, auto_ports=True) as state:
        for service in under_contract:
            assert service.openapi is not None
            document = fetch_document(state.services[service.name].url, service.openapi)
            path = harness_config.contract_path(service.name)
            changed = write_contract(path, document)
            print(f"{service.name:<12} {'written' if changed else 'unchanged':<9} {path}")


@task(
    name="check",
    help={
        "config": _COMMON_HELP["config"],
        "base": "git revision to compare with (default: merge base with the base branch)",
    },
)
@_reports_errors
def check_contracts(c: Context, base: str | None = None, config: str = "pyproject.toml") -> None:
    """Breaking changes of the checked-in contracts since a base revision; exit 1 if not allowed."""
    harness_config = _project(config)
    revision = base_revision(harness_config, base)
    print(f"breaking changes since {revision[:12]}:")
    refused = []
    for service in harness_config.under_contract():
        verdict = verdict_since(harness_config, service.name, revision)
        if verdict is None:
            print(f"{service.name}: new contract, nothing to break")
            continue
        print(verdict.report(service.name))
        if not verdict.allowed:
            refused.append(service.name)
    if refused:
        raise Exit(f"harness: breaking changes without a major version bump: {refused}", code=1)


@task(
    name="check",
    help={
        "db": _DB_HELP,
        "config": _COMMON_HELP["config"],
        "history": "check only this service's history (repeatable; default: every one)",
    },
    iterable=["history"],
)
@_reports_errors
def check_migrations(
    c: Context,
    db: str | None = None,
    config: str = "pyproject.toml",
    history: list[str] | None = None,
) -> None:
    """Every check of every service's Alembic history on one back end; exit 1 on a failure."""
    harness_config = _project(config)
    chosen = histories(harness_config, history)
    if not chosen:
        raise Exit("harness: no service sets `migrations`; there is no history to check", 1)
    with (
        _private_stack(harness_config, "migrations-check", db, database_only=True) as state,
        tempfile.TemporaryDirectory() as directory,
    ):
        assert state.database is not None
        db = state.backend
        scratch = scratch_for(harness_config, state.database, "m", Path(directory), tmpfs=True)
        try:
            results = check_all(chosen, scratch)
        finally:
            scratch.close()
    for result in results:
        print(f"{result.status.upper():<8} {result.id}")
        for line in result.detail.splitlines():  # a passed check's: its notices
            print(f"         {line}")
    failed = [result.id for result in results if result.status == "failed"]
    counts = {status: sum(r.status == status for r in results) for status in ("passed", "skipped")}
    print(f"{counts['passed']} passed, {len(failed)} failed, {counts['skipped']} skipped on {db}")
    if failed:
        raise Exit(code=1)


@task(
    name="baseline",
    help={
        "db": _DB_HELP,
        "config": _COMMON_HELP["config"],
        "scenario": "record only this scenario (repeatable); the baseline keeps the others",
        "repeats": "runs to measure, each on a fresh stack (default: 5): the baseline's "
        "run-to-run noise",
        "results": "record these saved results instead (repeatable, e.g. "
        "reports/perf/sqlite.json), measure nothing",
    },
    iterable=["scenario", "results"],
)
@_reports_errors
def record_baseline(
    c: Context,
    db: str | None = None,
    config: str = "pyproject.toml",
    scenario: list[str] | None = None,
    repeats: int = 5,
    results: list[str] | None = None,
) -> None:
    """Measure the perf scenarios several times and keep the pooled runs as the baseline."""
    harness_config = _project(config)
    plan = load_plan(harness_config)
    selected = plan.select(scenario)
    if results:
        runs = [perf_baseline.saved_run(Path(path), selected) for path in results]
    elif repeats < 1:
        raise Exit(f"harness: --repeats must be at least 1, got {repeats}", 1)
    else:
        runs = []
        for number in range(1, repeats + 1):
            print(f"run {number} of {repeats}")
            runs.append(_measure_afresh(harness_config, plan, db, selected))
    measured = perf_baseline.pool_checked(runs)
    path = harness_config.perf.baseline(measured.backend)
    perf_baseline.keep(measured, path, only_these=bool(scenario))
    for line in perf_baseline.summary(measured):
        print(line)
    print(f"baseline for {measured.backend} recorded in {path}")


def _measure_afresh(
    harness_config: HarnessConfig, plan: PerfPlan, db: str | None, scenarios: list[str]
) -> PerfResults:
    """`scenarios` of `plan` measured on a private stack that is down again afterwards."""
    with _private_stack(harness_config, "perf-baseline", db, auto_ports=True) as state:
        return measure(plan, state, scenarios, progress=print)


@task(
    name="begin",
    help={
        "run": "the run's id, as given to services.up",
        "package": "the test package the run is of (its suite is named <package>[<db>])",
        "db": "the back end it runs on, if any",
        "shard": "K/N when the run is shard K of N",
        "config": _COMMON_HELP["config"],
    },
)
@_reports_errors
def begin_run(
    c: Context,
    run: str,
    package: str,
    db: str | None = None,
    shard: str | None = None,
    config: str = "pyproject.toml",
) -> None:
    """Record a test run as it begins and clear what an earlier run of that id left."""
    harness_config = _project(config)
    record = RunRecord(run, package, db, shard, revision=git_revision(harness_config.root))
    layout = ReportsLayout(harness_config.reports.dir)
    layout.begin(record)
    write_coverage_settings(harness_config, layout.coverage_settings)


@task(name="merge", help={"config": _COMMON_HELP["config"]})
@_reports_errors
def merge_reports(c: Context, config: str = "pyproject.toml") -> None:
    """Merge every run's JUnit and coverage; write the summary; fail on a gate."""
    report = build(_project(config))
    print(report.coverage.terminal, end="")
    print(report.summary, end="")
    if report.failures:
        raise Exit("harness: report failed:\n" + "\n".join(f"  {f}" for f in report.failures), 1)


services = Collection("services", up, down, status, logs, restart)
ports = Collection("ports", clean_ports)
contracts = Collection("contracts", export_contracts, check_contracts)
migrations = Collection("migrations", check_migrations)
perf = Collection("perf", record_baseline)
reports = Collection("reports", begin_run, merge_reports)
namespace = Collection(services, ports, contracts, migrations, perf, reports)
