"""`[tool.harness.stubs.<name>]`: a third party's API, stubbed by a server of the run.

A stub is an auxiliary server whose command is harness's own stub program
(`python -m harness.testing.stub_server`), so it is started, recorded, told apart, logged,
shown and stopped exactly as any server is; services that list it in `depends_on` get its
URL as `<NAME>_URL`. Tests script its answers and read what it received through the
`stubs` fixture. Every mistake is one `ConfigError` line naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from harness.config._recordings import Recording, load_recordings
from harness.config._servers import Readiness, ServerConfig
from harness.config._tables import Port, Seconds, member_table, typed
from harness.exceptions import ConfigError

DEFAULT_SCOPE_HEADER = "X-Correlation-ID"
STUB_PROGRAM = "harness.testing.stub_server"


class _StubTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[tool.harness.stubs.<name>]` as written."""

    port: Port | None = None
    recordings: str | None = None
    scope_header: Annotated[
        str, Meta(pattern=r"^[A-Za-z0-9-]+$", description="must be an HTTP header name")
    ] = DEFAULT_SCOPE_HEADER
    start_timeout: Seconds | None = None
    stop_timeout: Seconds | None = None


@dataclass(frozen=True)
class StubConfig:
    """One stubbed third party: the server that runs it, the header that says which test a
    request belongs to, and its recorded exchanges (none: only scripted answers)."""

    name: str
    server: ServerConfig
    scope_header: str
    recordings_path: Path | None
    recordings: tuple[Recording, ...]


def parse_stubs(
    raw: dict[str, Any],
    taken: dict[str, str],
    root: Path,
    start_timeout: float,
    stop_timeout: float,
) -> dict[str, StubConfig]:
    """The `stubs` table; `taken` maps names already used to their table."""
    return {
        name: _stub(name, table, taken, root, start_timeout, stop_timeout)
        for name, table in raw.items()
    }


def _stub(
    name: str,
    raw: Any,
    taken: dict[str, str],
    root: Path,
    start_timeout: float,
    stop_timeout: float,
) -> StubConfig:
    key = f"tool.harness.stubs.{name}"
    stub = typed(member_table(raw, name, "stub", taken, key), _StubTable, key)
    recordings_path = root / stub.recordings if stub.recordings is not None else None
    recordings: list[Recording] = []
    if recordings_path:
        try:
            recordings = load_recordings(recordings_path)
        except ConfigError as exc:
            raise ConfigError(f"{key}.recordings: {exc}") from None
    command = ["{python}", "-m", STUB_PROGRAM, "--port", "{port}", "--name", name]
    command += ["--scope-header", stub.scope_header]
    command += ["--recordings", str(recordings_path)] if recordings_path else []
    server = ServerConfig(
        name=name,
        command=tuple(command),
        port=stub.port,
        ready=Readiness("tcp"),
        url="http://127.0.0.1:{port}",
        depends_on=(),
        install_hint=None,
        start_timeout=stub.start_timeout or start_timeout,
        stop_timeout=stub.stop_timeout or stop_timeout,
        table="stubs",
    )
    return StubConfig(name, server, stub.scope_header, recordings_path, tuple(recordings))
