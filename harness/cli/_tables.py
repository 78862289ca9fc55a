"""A task's table: drawn with rich on a terminal, plain aligned text elsewhere (a pipe, a
CI log), so scripts and logs read the same lines as before."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table


def print_table(
    console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]], plain: Sequence[str]
) -> None:
    """`rows` under `columns` on a terminal; otherwise the `plain` lines."""
    if not console.is_terminal:
        for line in plain:
            print(line)
        return
    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
