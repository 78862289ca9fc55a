"""Ports: is one free, who listens on it, a free one reserved for a run, wait until free.

Binding to port 0 and closing races when runs start side by side, so every port a run
uses is also reserved by an exclusively created file `<run_dir>/ports/<port>` naming the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

import psutil

HOST = "127.0.0.1"


def is_port_free(port: int, host: str = HOST) -> bool:
    """True when a server could bind the port now (SO_REUSEADDR, as uvicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str:
    """'pid N: command' of the program listening on the port, or why it is unknown."""
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        return "an unknown program (not allowed to list sockets)"
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            return describe_process(connection.pid)
    return "an unknown program"


def describe_process(pid: int) -> str:
    """'pid N: full command line' for messages."""
    try:
        process = psutil.Process(pid)
        command = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        command = "?"
    return f"pid {pid}: {command}"


def wait_until_free(port: int, timeout: float) -> bool:
    """Poll until the port can be bound; False if it is still held after `timeout`."""
    deadline = time.monotonic() + timeout
    while not is_port_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def unbound_port() -> int:
    """A port the OS would give a socket bound to port 0 on HOST now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


class PortReservations:
    """Exclusive per-port files so concurrent runs never hand out the same port."""

    def __init__(self, directory: Path, runs_dir: Path) -> None:
        self.directory = directory
        self.runs_dir = runs_dir

    @classmethod
    def under(cls, run_dir: Path) -> PortReservations:
        """The reservations of every run under a harness directory (`<run_dir>/ports`)."""
        return cls(run_dir / "ports", run_dir / "runs")

    def reserve(self, port: int, run_id: str) -> bool:
        """Reserve `port` for `run_id`; False when a live run, `run_id` too, holds it.

        A run never gets one port twice: the OS may offer a port again as soon as our
        probe closes it, before the service it was handed to has bound it.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / str(port)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder(port)
                if holder is not None and (self.runs_dir / holder).exists():
                    return False
                path.unlink(missing_ok=True)  # left by a run that no longer exists
                continue
            with os.fdopen(fd, "w") as file:
                file.write(run_id)
            return True
        return False

    def holder(self, port: int) -> str | None:
        """The run id holding the port's reservation, if any."""
        try:
            return (self.directory / str(port)).read_text().strip() or None
        except FileNotFoundError:
            return None

    def release(self, port: int, run_id: str) -> None:
        """Drop the reservation if (and only if) `run_id` holds it."""
        if self.holder(port) == run_id:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / str(port)).unlink()

    def release_all(self, run_id: str) -> None:
        """Drop every reservation `run_id` holds."""
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                if path.name.isdigit():
                    self.release(int(path.name), run_id)

    def free_port(self, run_id: str, attempts: int = 50) -> int:
        """A port the OS says is free and no run has reserved, now reserved for `run_id`."""
        for _ in range(attempts):
            port = unbound_port()
            if self.reserve(port, run_id):
                return port
        raise RuntimeError(f"no free port found in {attempts} attempts")

    def clean_stale(self) -> list[int]:
        """Remove reservations of runs that no longer exist; the freed ports."""
        freed: list[int] = []
        if not self.directory.is_dir():
            return freed
        for path in self.directory.iterdir():
            if not path.name.isdigit():
                continue
            holder = self.holder(int(path.name))
            if holder is None or not (self.runs_dir / holder).exists():
                path.unlink(missing_ok=True)
                freed.append(int(path.name))
        return freed
