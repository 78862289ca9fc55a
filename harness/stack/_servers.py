"""A run's auxiliary servers (`[tool.harness.servers]`): checked installed before anything
starts, spawned like services (a process group each, output to its log, the run's token in
its environment), a data directory of its own per run, and readiness by their own probe."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from harness import infra
from harness.config import ServerConfig
from harness.exceptions import ServiceStartError
from harness.infra import HOST, ProcessRecord, RunDirectory, ServiceRecord

KIND = "server"


def check_installed(servers: Iterable[ServerConfig]) -> None:
    """Every server's binary (and its readiness command's) is on PATH; else one error naming
    what to install, before anything of the run is spawned."""
    for server in servers:
        commands = (
            [server.command, server.ready.command] if server.ready.command else [server.command]
        )
        for command in commands:
            binary = fill(command, 0, Path())[0]
            if shutil.which(binary) is not None:
                continue
            key = server.key
            fix = (
                f"install it ({server.install_hint})"
                if server.install_hint
                else f"install it, and say how in {key}.install_hint"
            )
            raise ServiceStartError(
                server.name,
                f"{binary!r} is not installed (not found on PATH); {fix}, or change {key}.command"
                + (".ready" if command is server.ready.command else ""),
                kind=KIND,
            )


def fill(arguments: Iterable[str], port: int, directory: Path) -> list[str]:
    """`arguments` with `{port}`, `{dir}` and `{python}` (the interpreter running harness)."""
    return [
        argument.replace("{port}", str(port))
        .replace("{dir}", str(directory))
        .replace("{python}", sys.executable)
        for argument in arguments
    ]


def server_url(server: ServerConfig, port: int) -> str:
    """The URL its dependants get as `<NAME>_URL`."""
    return server.url.replace("{port}", str(port)).replace("{host}", HOST)


def data_dir(run: RunDirectory, name: str) -> Path:
    """The server's `{dir}`: under the run's directory, so it goes with the run."""
    return run.path / "servers" / name


def launch(
    server: ServerConfig,
    port: int,
    env: dict[str, str],
    run: RunDirectory,
    cwd: Path,
    label: str = "",
) -> tuple[subprocess.Popen[bytes], ServiceRecord, infra.Probe]:
    """Spawn the server on `port` (its data directory made first) and how to tell it ready.
    `label` names the data directory and log of one more instance (default: the server's)."""
    label = label or server.name
    directory = data_dir(run, label)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = run.logs / f"{label}.log"
    offset = infra.log_size(log_path)  # a log line from an earlier process is not readiness
    command = fill(server.command, port, directory)
    try:
        process = infra.spawn(command, env, log_path, cwd=cwd)
    except OSError as exc:
        raise ServiceStartError(
            server.name,
            f"cannot run {command[0]!r}: {exc.strerror}; check {server.key}.command",
            kind=KIND,
        ) from None
    record = ServiceRecord(
        name=server.name,
        process=ProcessRecord.of(process.pid),
        port=port,
        url=server_url(server, port),
        log_path=str(log_path),
        started_at=datetime.now(UTC).isoformat(),
        stop_timeout=server.stop_timeout,
        depends_on=list(server.depends_on),
    )
    return process, record, probe(server, port, env, log_path, offset, cwd, directory)


def probe(
    server: ServerConfig,
    port: int,
    env: dict[str, str],
    log_path: Path,
    offset: int,
    cwd: Path,
    directory: Path,
) -> infra.Probe:
    """The probe its `ready` names."""
    if server.ready.kind == "command":
        return infra.CommandProbe(fill(server.ready.command, port, directory), env, cwd)
    if server.ready.kind == "log":
        return infra.LogProbe(log_path, server.ready.log_line, offset)
    return infra.TcpProbe(port)


def wait_ready(
    server: ServerConfig,
    process: subprocess.Popen[bytes],
    readiness: infra.Probe,
    log_path: Path,
    cancelled: threading.Event,
) -> None:
    infra.wait_ready(
        server.name,
        process,
        readiness,
        server.start_timeout,
        log_path,
        cancelled,
        kind=KIND,
        ready="ready",
    )


def is_ready(
    server: ServerConfig, record: ServiceRecord, run: RunDirectory, env: dict[str, str], cwd: Path
) -> bool:
    """One look, for `services.status`: its readiness command exits 0, or (for tcp and log
    readiness, a log line being a start-up event) its port accepts a connection."""
    if server.ready.kind == "command":
        command = fill(server.ready.command, record.port, data_dir(run, server.name))
        check: infra.Probe = infra.CommandProbe(command, env, cwd)
    else:
        check = infra.TcpProbe(record.port)
    return check.check(timeout=2.0) is None
