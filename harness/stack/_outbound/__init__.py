"""The outbound guard: every Python process of a run may reach 127.0.0.1 and nothing else.

With `[tool.harness] outbound = "loopback"` (the default) the run's processes get this
directory first on PYTHONPATH, so Python loads its `sitecustomize`: an audit hook that
refuses, before any packet leaves, a name lookup of a host that is not the machine's own
and a connection (or datagram) to an address that is not loopback; each refusal is a line
in the run's `outbound.log`, which the pytest plugin turns into a failed test. Only what
goes through Python's socket module is seen: a C library's own sockets (libpq) and
programs that are not Python (redis-server) are not guarded.
"""

from __future__ import annotations

import os
from pathlib import Path

GUARD_DIR = Path(__file__).parent
RECORD_VARIABLE = "HARNESS_OUTBOUND_RECORD"
RECORD_NAME = "outbound.log"


def guarded(env: dict[str, str], record: Path) -> dict[str, str]:
    """`env` with the guard loaded first and its refusals written to `record`."""
    path = [str(GUARD_DIR), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(path), RECORD_VARIABLE: str(record)}


def refusals(record: Path, offset: int = 0) -> list[str]:
    """The refusals written to `record` past `offset` bytes (none when it does not exist)."""
    try:
        with open(record, "rb") as lines:
            lines.seek(offset)
            return lines.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return []
