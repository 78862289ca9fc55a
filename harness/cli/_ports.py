"""`ports.clean`: take down runs whose owner died and free their ports."""

from __future__ import annotations

from invoke import Context, Exit, task

from harness.cli._common import (
    COMMON_HELP,
    print_teardown,
    project,
    reports_errors,
)
from harness.stack import clean_stale_runs


@task(name="clean", help={"config": COMMON_HELP["config"]})
@reports_errors
def clean_ports(c: Context, config: str = "pyproject.toml") -> None:
    """Take down runs whose owner died, and free their ports. Never touches other programs."""
    reports = clean_stale_runs(project(config))
    if not reports:
        print("no stale run; nothing to clean")
    for report in reports:
        print_teardown(report)
    if not all(report.ok for report in reports):
        raise Exit(code=1)
