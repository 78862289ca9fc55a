"""`[tool.harness.servers.<name>]`: auxiliary servers (a cache, a broker, a mail sink) that a
run starts beside its services, each a binary with a `{port}` and readiness of its own.

Every mistake is one `ConfigError` line naming the key, as for services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from harness.config._tables import (
    Command,
    Environment,
    Names,
    Port,
    Seconds,
    did_you_mean,
    listening_command,
    member_table,
    typed,
)
from harness.exceptions import ConfigError

READY_KINDS = ("tcp", "command", "log")
PLACEHOLDERS = ("{port}", "{dir}", "{python}")


def is_redis_url(url: str) -> bool:
    """Whether `url` is a Redis server's (redis:// or rediss://)."""
    return url.startswith(("redis://", "rediss://"))


_READY_SHAPES = '{tcp = true}, {command = ["redis-cli", "-p", "{port}", "ping"]} or {log = "Ready"}'


ReadyLine = Annotated[
    str, Meta(min_length=1, description="must be the line (or part of it) that says it is ready")
]
InstallHint = Annotated[
    str,
    Meta(
        pattern=r"\S",
        description='must be what installs the binary, e.g. "apt-get install redis-server"',
    ),
]


class _ReadyTable(msgspec.Struct, forbid_unknown_fields=True):
    """`ready`: exactly one of its keys."""

    tcp: Annotated[bool, Meta(description="must be true")] | None = None
    command: Command | None = None
    log: ReadyLine | None = None


class _ServerTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[tool.harness.servers.<name>]` as written."""

    command: Command
    port: Port | None = None
    ready: Annotated[_ReadyTable, Meta(description=f"must be one of {_READY_SHAPES}")] = (
        msgspec.field(default_factory=lambda: _ReadyTable(tcp=True))
    )
    url: str = "tcp://127.0.0.1:{port}"
    depends_on: Names = []
    install_hint: InstallHint | None = None
    env: Environment = {}
    start_timeout: Seconds | None = None
    stop_timeout: Seconds | None = None


@dataclass(frozen=True)
class Readiness:
    """How harness knows a server is ready: its port accepts a TCP connection (`tcp`), a
    command exits 0 (`command`, say `redis-cli -p {port} ping`), or its log shows a line
    (`log`)."""

    kind: Literal["tcp", "command", "log"] = "tcp"
    command: tuple[str, ...] = ()
    log_line: str = ""


@dataclass(frozen=True)
class ServerConfig:
    """One auxiliary server: its command (`{port}`, `{dir}`: a data directory of its own per
    run, `{python}`), readiness, the URL services that depend on it get, and what to
    install when its binary is missing."""

    name: str
    command: tuple[str, ...]
    port: int | None
    ready: Readiness
    url: str
    depends_on: tuple[str, ...]
    install_hint: str | None
    start_timeout: float
    stop_timeout: float
    env: dict[str, str] = field(default_factory=dict)
    table: str = "servers"  # the [tool.harness] table it was declared in ("stubs" for a stub)

    @property
    def url_variable(self) -> str:
        """The environment variable the services that depend on it find it by."""
        return f"{self.name.upper().replace('-', '_')}_URL"

    @property
    def is_redis(self) -> bool:
        """Whether it is a Redis server: its URL is redis:// or rediss://."""
        return is_redis_url(self.url)

    @property
    def key(self) -> str:
        """Its table's key, for messages: `tool.harness.servers.redis`."""
        return f"tool.harness.{self.table}.{self.name}"


def parse_servers(
    raw: dict[str, Any], service_names: set[str], start_timeout: float, stop_timeout: float
) -> dict[str, ServerConfig]:
    """The `servers` table; a server may depend only on other servers."""
    servers = {
        name: _server(name, table, service_names, start_timeout, stop_timeout)
        for name, table in raw.items()
    }
    for server in servers.values():
        for dependency in server.depends_on:
            if dependency not in servers:
                kind = "a service" if dependency in service_names else "an unknown server"
                raise ConfigError(
                    f"tool.harness.servers.{server.name}.depends_on: {dependency!r} is {kind}; "
                    f"a server may depend only on servers{did_you_mean(dependency, servers)}"
                )
    return servers


def _server(
    name: str, raw: Any, service_names: set[str], start_timeout: float, stop_timeout: float
) -> ServerConfig:
    key = f"tool.harness.servers.{name}"
    raw = member_table(raw, name, "server", dict.fromkeys(service_names, "service"), key)
    server = typed(raw, _ServerTable, key)
    return ServerConfig(
        name=name,
        command=listening_command(server.command, f"{key}.command"),
        port=server.port,
        ready=_readiness(server.ready, f"{key}.ready"),
        url=server.url,
        depends_on=tuple(server.depends_on),
        install_hint=server.install_hint,
        start_timeout=server.start_timeout or start_timeout,
        stop_timeout=server.stop_timeout or stop_timeout,
        env=server.env,
    )


def _readiness(ready: _ReadyTable, key: str) -> Readiness:
    """One of `{tcp = true}`, `{command = [...]}`, `{log = "..."}`."""
    given = {kind: getattr(ready, kind) for kind in READY_KINDS if getattr(ready, kind) is not None}
    if len(given) != 1:
        raise ConfigError(f"{key}: must be one of {_READY_SHAPES}, got {given!r}")
    if ready.tcp is not None:
        if not ready.tcp:
            raise ConfigError(f"{key}.tcp: must be true, got false")
        return Readiness("tcp")
    if ready.command is not None:
        return Readiness("command", command=tuple(ready.command))
    return Readiness("log", log_line=ready.log or "")
