"""Run ids: the name of a run (a directory and part of a database name), and the id a test
run of one package, back end and shard gets (`contracts-postgres-1of2`).

Standard library only: the Nox helpers import it, and every nox call loads them.
"""

from __future__ import annotations

import re

from harness.exceptions import RunStateError

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def is_run_id(name: str) -> bool:
    """Whether `name` could name a run (a directory under runs/ that is one)."""
    return _RUN_ID.fullmatch(name) is not None


def check_run_id(run_id: str) -> str:
    """A run id is a directory and a database name part: letters, digits, '_', '.', '-'."""
    if not is_run_id(run_id):
        raise RunStateError(
            f"run id {run_id!r}: use 1-63 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit"
        )
    return run_id


def session_run_id(
    package: str, db: str | None = None, shard: tuple[int, int] | None = None
) -> str:
    """`<package>[-<db>][-<K>of<N>]`: the run (and report files) of one test session."""
    run_id = "-".join(filter(None, [package, db]))
    if shard is not None:
        group, splits = shard
        run_id += f"-{group}of{splits}"
    return check_run_id(run_id)
