"""`reports.begin|merge`: record a test run as it begins; merge every run's reports."""

from __future__ import annotations

from invoke import Context, Exit, task

from harness.cli._common import (
    COMMON_HELP,
    project,
    reports_errors,
)
from harness.reports import ReportsLayout, RunRecord, build, git_revision, write_coverage_settings


@task(
    name="begin",
    help={
        "run": "the run's id, as given to services.up",
        "package": "the test package the run is of (its suite is named <package>[<db>])",
        "db": "the back end it runs on, if any",
        "shard": "K/N when the run is shard K of N",
        "config": COMMON_HELP["config"],
    },
)
@reports_errors
def begin_run(
    c: Context,
    run: str,
    package: str,
    db: str | None = None,
    shard: str | None = None,
    config: str = "pyproject.toml",
) -> None:
    """Record a test run as it begins and clear what an earlier run of that id left."""
    harness_config = project(config)
    record = RunRecord(run, package, db, shard, revision=git_revision(harness_config.root))
    layout = ReportsLayout(harness_config.reports.dir)
    layout.begin(record)
    write_coverage_settings(harness_config, layout.coverage_settings)


@task(name="merge", help={"config": COMMON_HELP["config"]})
@reports_errors
def merge_reports(c: Context, config: str = "pyproject.toml") -> None:
    """Merge every run's JUnit and coverage; write the summary; fail on a gate."""
    report = build(project(config))
    print(report.coverage.terminal, end="")
    print(report.summary, end="")
    if report.failures:
        raise Exit("harness: report failed:\n" + "\n".join(f"  {f}" for f in report.failures), 1)
