"""The outbound guard: every Python process of a run may reach 127.0.0.1 and nothing else.

With `[tool.harness] outbound = "loopback"` (the default) the run's processes get this
directory first on PYTHONPATH, so Python loads its `sitecustomize`: an audit hook that
refuses, before any packet leaves, a name lookup of a host that is not the machine's own
and a connection (or datagram) to an address that is not loopback; each refusal is a line
in the run's `outbound.log`, which the pytest plugin turns into a failed test. The run's
own database server is allowed wherever `HARNESS_POSTGRES_URL` puts it (another host,
which psycopg looks up in Python). Only what
goes through Python's socket module is seen: a C library's own sockets (libpq) and
programs that are not Python (redis-server) are not guarded.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

GUARD_DIR = Path(__file__).parent
RECORD_VARIABLE = "HARNESS_OUTBOUND_RECORD"
ALLOW_VARIABLE = "HARNESS_OUTBOUND_ALLOW"
RECORD_NAME = "outbound.log"


def guarded(env: dict[str, str], record: Path, allowed: Iterable[str] = ()) -> dict[str, str]:
    """`env` with the guard loaded first, its refusals written to `record`, and the
    `allowed` hosts (names and addresses) reachable besides this machine."""
    path = [str(GUARD_DIR), *filter(None, [env.get("PYTHONPATH")])]
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(path),
        RECORD_VARIABLE: str(record),
        ALLOW_VARIABLE: ",".join(sorted(allowed)),
    }


def database_hosts(server_url: str | None) -> set[str]:
    """The PostgreSQL server's host name and its addresses, from the server URL the run's
    databases are made on (`HARNESS_POSTGRES_URL`; none: a throwaway cluster on loopback),
    known before the run's database is."""
    if not server_url:
        return set()
    try:
        host = make_url(server_url).host
    except ArgumentError:
        return set()  # not a URL: provisioning the database says so
    if not host:
        return set()
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        found = []  # unresolvable here: its services will say so
    return {host.lower(), *(str(info[4][0]) for info in found)}


def refusals(record: Path, offset: int = 0) -> list[str]:
    """The refusals written to `record` past `offset` bytes (none when it does not exist)."""
    try:
        with open(record, "rb") as lines:
            lines.seek(offset)
            return lines.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return []
