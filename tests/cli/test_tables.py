"""A task's table: rich on a terminal, the plain lines elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from harness.cli._tables import print_table

ROWS = [("records", "4242", "yes"), ("facts", "4343", "exited")]
PLAIN = ["service  pid  healthy", "records  4242 yes", "facts    4343 exited"]


def test_off_a_terminal_the_plain_lines_are_printed_as_given(capsys):
    shown = Console(file=io.StringIO(), force_terminal=False)

    print_table(shown, ("service", "pid", "healthy"), ROWS, PLAIN)

    assert capsys.readouterr().out.splitlines() == PLAIN


def test_on_a_terminal_a_table_holds_every_cell_under_its_column(capsys):
    out = io.StringIO()
    shown = Console(file=out, force_terminal=True, width=80, color_system=None)

    print_table(shown, ("service", "pid", "healthy"), ROWS, PLAIN)

    lines = out.getvalue().splitlines()
    assert capsys.readouterr().out == ""  # nothing plain beside the table
    assert lines[0].split() == ["service", "pid", "healthy"]
    assert [line.split() for line in lines[1:]] == [list(row) for row in ROWS]
