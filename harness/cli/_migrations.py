"""`migrations.check`: every check of every Alembic history on one back end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from invoke import Context, Exit, task
from rich.console import Console

from harness.cli._common import (
    COMMON_HELP,
    DB_HELP,
    private_stack,
    project,
    reports_errors,
)
from harness.cli._progress import checking
from harness.cli._tables import print_table
from harness.db import scratch_for
from harness.migrations import check_all, histories


@task(
    name="check",
    help={
        "db": DB_HELP,
        "config": COMMON_HELP["config"],
        "history": "check only this service's history (repeatable; default: every one)",
    },
    iterable=["history"],
)
@reports_errors
def check_migrations(
    c: Context,
    db: str | None = None,
    config: str = "pyproject.toml",
    history: list[str] | None = None,
) -> None:
    """Every check of every service's Alembic history on one back end; exit 1 on a failure."""
    harness_config = project(config)
    chosen = histories(harness_config, history)
    if not chosen:
        raise Exit("harness: no service sets `migrations`; there is no history to check", 1)
    with (
        private_stack(harness_config, "migrations-check", db, database_only=True) as state,
        tempfile.TemporaryDirectory() as directory,
    ):
        assert state.database is not None
        db = state.backend
        scratch = scratch_for(harness_config, state.database, "m", Path(directory), tmpfs=True)
        console = Console()
        try:
            with checking(console, len(chosen)) as starting:
                results = check_all(chosen, scratch, starting)
        finally:
            scratch.close()
    plain = [
        line
        for result in results
        for line in [
            f"{result.status.upper():<8} {result.id}",
            *(f"         {line}" for line in result.detail.splitlines()),  # a pass's notices
        ]
    ]
    rows = [(result.status.upper(), result.id, result.detail) for result in results]
    print_table(console, ("verdict", "check", "detail"), rows, plain)
    failed = [result.id for result in results if result.status == "failed"]
    counts = {status: sum(r.status == status for r in results) for status in ("passed", "skipped")}
    print(f"{counts['passed']} passed, {len(failed)} failed, {counts['skipped']} skipped on {db}")
    if failed:
        raise Exit(code=1)
