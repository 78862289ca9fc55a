"""`services.up|down|status|logs|restart`: a run's stack on test ports."""

from __future__ import annotations

import os
import time
from pathlib import Path

from invoke import Context, Exit, task
from rich.console import Console

from harness.cli._common import (
    COMMON_HELP,
    DB_HELP,
    print_teardown,
    reports_errors,
    run_stack,
)
from harness.cli._progress import UpProgress
from harness.cli._tables import print_table
from harness.infra import log_tail, mask_secrets
from harness.stack import ServiceStatus


@task(
    help={
        **COMMON_HELP,
        "db": DB_HELP,
        "auto_ports": "use free ports instead of the configured ones",
        "coverage": "measure the services with coverage (COVERAGE_PROCESS_START)",
        "keep": "keep the run up after the process that ran this command (the Nox session "
        "or shell) ends; by default the run's reaper then takes it down",
        "lifecycle_junit": "write each service's start and stop as JUnit cases to this file "
        "(on a failed start, and at services.down)",
    }
)
@reports_errors
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
    progress = UpProgress(Console())
    stack = run_stack(run, config, [progress])
    progress.align(stack.config.members)
    db = db or stack.config.backends[0]
    started = time.perf_counter()
    try:
        state = stack.up(
            db,
            auto_ports=auto_ports,
            coverage=coverage,
            detach=keep,
            owner_pid=os.getppid(),
            lifecycle_junit=Path(lifecycle_junit) if lifecycle_junit else None,
        )
    finally:
        progress.close()
    print(f"run {stack.run_id!r} up on {db} in {time.perf_counter() - started:.2f} s")
    if state.database is not None:
        print(f"  database  {state.database.display_url}")
    width = max([12, *(len(record.name) for record in state.processes())])
    for record in state.processes():
        print(f"  {record.name:<{width}} {record.url}  pid {record.process.pid}")


@task(help=COMMON_HELP)
@reports_errors
def down(c: Context, run: str | None = None, config: str = "pyproject.toml") -> None:
    """Stop the run's services, drop its database, free its ports."""
    stack = run_stack(run, config)
    if not stack.run.path.is_dir():
        print(f"run {stack.run_id!r} is not up; nothing to do")
        return
    report = stack.down()
    print_teardown(report)
    if not report.ok:
        raise Exit(code=1)


@task(help=COMMON_HELP)
@reports_errors
def status(c: Context, run: str | None = None, config: str = "pyproject.toml") -> None:
    """A table of the run's services and auxiliary servers: pid, port, URL, healthy (a
    server: ready), uptime."""
    rows = run_stack(run, config).status()
    cells = [
        (row.name, str(row.pid), str(row.port), row.url, _health(row), f"{row.uptime:.1f}s")
        for row in rows
    ]
    width = max([12, *(len(cell[0]) for cell in cells)])
    header = (
        f"{'service':<{width}} {'pid':>7} {'port':>6}  {'url':<24} {'healthy':<8} {'uptime':>8}"
    )
    plain = [header] + [
        f"{name:<{width}} {pid:>7} {port:>6}  {url:<24} {healthy:<8} {uptime:>8}"
        for name, pid, port, url, healthy, uptime in cells
    ]
    columns = ("service", "pid", "port", "url", "healthy", "uptime")
    print_table(Console(), columns, cells, plain)
    if not all(row.healthy for row in rows):
        raise Exit(code=1)


def _health(row: ServiceStatus) -> str:
    return "yes" if row.healthy else ("no" if row.running else "exited")


@task(
    help={
        **COMMON_HELP,
        "service": "only this service's log (repeatable; default: every service's)",
        "follow": "keep printing new lines",
        "lines": "how many lines to show",
    },
    iterable=["service"],
)
@reports_errors
def logs(
    c: Context,
    service: list[str] | None = None,
    run: str | None = None,
    follow: bool = False,
    lines: int = 40,
    config: str = "pyproject.toml",
) -> None:
    """Show the end of the services' logs (live run, else the archived logs of the last one)."""
    stack = run_stack(run, config)
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


@task(help={**COMMON_HELP, "service": "the service to restart"})
@reports_errors
def restart(
    c: Context, service: str, run: str | None = None, config: str = "pyproject.toml"
) -> None:
    """Stop one service and start it again on the same port."""
    record = run_stack(run, config).restart(service)
    print(f"{service} restarted: {record.url} pid {record.process.pid}")
