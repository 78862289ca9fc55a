"""services.up's and migrations.check's progress, rendered from real event objects into a
console that is a terminal and one that is not."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harness.cli._progress import UpProgress, checking
from harness.db import History
from harness.stack._events import (
    DatabaseProvisioned,
    MigrationsDone,
    MigrationsStarted,
    ServerReady,
    ServiceHealthy,
    ServiceSpawned,
)


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100, color_system=None), out


def tell_a_start(progress: UpProgress) -> None:
    progress(DatabaseProvisioned("sqlite", "/tmp/run/database.sqlite3"))
    progress(MigrationsStarted(2))
    progress(ServiceSpawned("records", 4242, 8001))
    progress(MigrationsDone(2, 0.4))
    progress(ServiceHealthy("records", "http://127.0.0.1:8001", 0.8372))
    progress(ServerReady("redis", "redis://127.0.0.1:6400", 0.012))
    progress.close()


def test_off_a_terminal_each_fact_is_one_plain_line_in_the_order_told():
    shown, out = console(terminal=False)

    tell_a_start(UpProgress(shown))

    assert out.getvalue().splitlines() == [
        "database  sqlite /tmp/run/database.sqlite3",
        "migrated  2 histories in 0.40 s",
        "healthy   records      http://127.0.0.1:8001  in 0.84 s",
        "ready     redis        redis://127.0.0.1:6400  in 0.01 s",
    ]


def test_on_a_terminal_a_spinner_turns_while_migrations_run_and_stops_after():
    shown, out = console(terminal=True)
    progress = UpProgress(shown)

    progress(MigrationsStarted(3))
    assert progress._spinner is not None  # turning
    progress(MigrationsDone(3, 1.25))

    assert progress._spinner is None
    assert "migrating 3 histories" in out.getvalue()
    assert "migrated  3 histories in 1.25 s" in out.getvalue()


def test_migrations_copied_from_an_earlier_run_say_so():
    shown, out = console(terminal=False)

    UpProgress(shown)(MigrationsDone(4, 0.003, copied=True))

    assert out.getvalue().splitlines() == [
        "migrated  4 histories in 0.00 s (copied: unchanged since a run migrated them)"
    ]


def test_a_start_that_ends_while_migrating_leaves_no_spinner_turning():
    shown, _ = console(terminal=True)
    progress = UpProgress(shown)
    progress(MigrationsStarted(1))

    progress.close()

    assert progress._spinner is None


def test_migration_checks_name_each_history_on_a_terminal_and_print_nothing_off_it(tmp_path):
    histories = [History("records", Path(tmp_path)), History("facts", Path(tmp_path))]
    for terminal in (True, False):
        shown, out = console(terminal)
        with checking(shown, len(histories)) as starting:
            for history in histories:
                starting(history)
        if terminal:  # the spinner's last frame names the last history, counted
            assert "checking facts's history (2 of 2)" in out.getvalue()
        else:
            assert out.getvalue() == ""


def test_names_longer_than_the_column_widen_it_for_every_line():
    shown, out = console(terminal=False)
    progress = UpProgress(shown)
    progress.align(["records", "filings-worker"])

    progress(ServiceHealthy("records", "http://127.0.0.1:8001", 0.5))
    progress(ServiceHealthy("filings-worker", "http://127.0.0.1:8002", 0.5))

    assert out.getvalue().splitlines() == [
        "healthy   records        http://127.0.0.1:8001  in 0.50 s",
        "healthy   filings-worker http://127.0.0.1:8002  in 0.50 s",
    ]
