"""harness's outbound guard, loaded by Python at start-up from PYTHONPATH in a run's
processes: name lookups and connections beyond the machine are refused and recorded."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import ipaddress
import os
import socket
import sys
from typing import Any

_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost"}
_INET = {socket.AF_INET, socket.AF_INET6}


def is_local(host: Any) -> bool:
    """`host` names this machine: no host, a loopback name, a loopback or unspecified address."""
    if host is None:
        return True
    name = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check(
    event: str, args: tuple[Any, ...], record: str, allowed: frozenset[str] = frozenset()
) -> None:
    """The audit hook's verdict on one event: refuse (record, then raise) what leaves for
    anywhere but this machine and the `allowed` hosts (names and addresses)."""
    if event == "socket.getaddrinfo" and not _reachable(args[0], allowed):
        refuse(f"looking up {args[0]!r} (port {args[1]})", record)
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[1]
        if sock.family in _INET and not _reachable(address[0], allowed):
            refuse(f"{event.split('.')[1]} to {address[0]}:{address[1]}", record)


def _reachable(host: Any, allowed: frozenset[str]) -> bool:
    name = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
    return is_local(host) or name.lower() in allowed


def refuse(what: str, record: str) -> None:
    with open(record, "a") as lines:
        lines.write(f"pid {os.getpid()} ({' '.join(sys.argv)[:160]}): {what}\n")
    raise PermissionError(f"harness outbound guard: {what} refused; a run reaches only 127.0.0.1")


def _install(record: str, allowed: frozenset[str]) -> None:
    sys.addaudithook(lambda event, args: check(event, args, record, allowed))


def _run_the_one_hidden() -> None:
    """Run the sitecustomize this one hides on sys.path, if there is one."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if os.environ.get("HARNESS_OUTBOUND_RECORD"):
    _allowed = os.environ.get("HARNESS_OUTBOUND_ALLOW", "").lower().split(",")
    _install(os.environ["HARNESS_OUTBOUND_RECORD"], frozenset(filter(None, _allowed)))
_run_the_one_hidden()
