"""`[tool.harness.servers.<name>]`: auxiliary servers (a cache, a broker, a mail sink) that a
run starts beside its services, each a binary with a `{port}` and readiness of its own.

Every mistake is one `ConfigError` line naming the key, as for services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from harness.config._tables import (
    command,
    did_you_mean,
    listening_command,
    member_table,
    names,
    port,
    positive_number,
    reject_unknown,
    string,
)
from harness.exceptions import ConfigError

_SERVER_KEYS = {
    "command",
    "port",
    "ready",
    "url",
    "depends_on",
    "install_hint",
    "env",
    "start_timeout",
    "stop_timeout",
}
READY_KINDS = ("tcp", "command", "log")
_EXAMPLE = '["redis-server", "--port", "{port}"]'
PLACEHOLDERS = ("{port}", "{dir}", "{python}")


def is_redis_url(url: str) -> bool:
    """Whether `url` is a Redis server's (redis:// or rediss://)."""
    return url.startswith(("redis://", "rediss://"))


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
    raw: Any, service_names: set[str], start_timeout: float, stop_timeout: float
) -> dict[str, ServerConfig]:
    """The `servers` table (absent: none); a server may depend only on other servers."""
    if not isinstance(raw, dict):
        raise ConfigError("tool.harness.servers: must be a table of servers")
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
    reject_unknown(raw, _SERVER_KEYS, key)
    command = listening_command(raw.get("command"), f"{key}.command", _EXAMPLE)
    url = string(raw, "url", key, "tcp://127.0.0.1:{port}")
    depends_on = names(raw, "depends_on", key, "server names")
    hint = raw.get("install_hint")
    if hint is not None and (not isinstance(hint, str) or not hint.strip()):
        raise ConfigError(
            f'{key}.install_hint: must be what installs the binary, e.g. "apt-get install '
            f'redis-server", got {hint!r}'
        )
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ConfigError(f"{key}.env: must be a table of strings")
    return ServerConfig(
        name=name,
        command=tuple(command),
        port=port(raw, key),
        ready=_readiness(raw.get("ready", {"tcp": True}), f"{key}.ready"),
        url=url,
        depends_on=tuple(depends_on),
        install_hint=hint,
        start_timeout=positive_number(raw, "start_timeout", key, start_timeout),
        stop_timeout=positive_number(raw, "stop_timeout", key, stop_timeout),
        env=dict(env),
    )


def _readiness(value: Any, key: str) -> Readiness:
    """One of `{tcp = true}`, `{command = [...]}`, `{log = "..."}`."""
    shapes = '{tcp = true}, {command = ["redis-cli", "-p", "{port}", "ping"]} or {log = "Ready"}'
    if not isinstance(value, dict) or len(value) != 1:
        raise ConfigError(f"{key}: must be one of {shapes}, got {value!r}")
    [(kind, setting)] = value.items()
    if kind not in READY_KINDS:
        raise ConfigError(f"{key}.{kind}: unknown readiness{did_you_mean(kind, READY_KINDS)}")
    if kind == "tcp":
        if setting is not True:
            raise ConfigError(f"{key}.tcp: must be true, got {setting!r}")
        return Readiness("tcp")
    if kind == "command":
        return Readiness("command", command=tuple(command(setting, f"{key}.command", _EXAMPLE)))
    if not isinstance(setting, str) or not setting:
        raise ConfigError(f"{key}.log: must be the line (or part of it) that says it is ready")
    return Readiness("log", log_line=setting)
