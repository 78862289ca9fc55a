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
from typing import Any

from harness.config._recordings import Recording, load_recordings
from harness.config._servers import Readiness, ServerConfig
from harness.config._tables import member_table, port, positive_number, reject_unknown, string
from harness.exceptions import ConfigError

_STUB_KEYS = {"port", "recordings", "scope_header", "start_timeout", "stop_timeout"}
DEFAULT_SCOPE_HEADER = "X-Correlation-ID"
STUB_PROGRAM = "harness.testing.stub_server"


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
    raw: Any, taken: dict[str, str], root: Path, start_timeout: float, stop_timeout: float
) -> dict[str, StubConfig]:
    """The `stubs` table (absent: none); `taken` maps names already used to their table."""
    if not isinstance(raw, dict):
        raise ConfigError("tool.harness.stubs: must be a table of stubs")
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
    raw = member_table(raw, name, "stub", taken, key)
    reject_unknown(raw, _STUB_KEYS, key)
    header = string(raw, "scope_header", key, DEFAULT_SCOPE_HEADER)
    if not header or not all(c.isalnum() or c == "-" for c in header):
        raise ConfigError(f"{key}.scope_header: must be an HTTP header name, got {header!r}")
    recordings_path = None
    recordings: list[Recording] = []
    if "recordings" in raw:
        recordings_path = root / string(raw, "recordings", key, "")
        try:
            recordings = load_recordings(recordings_path)
        except ConfigError as exc:
            raise ConfigError(f"{key}.recordings: {exc}") from None
    command = ["{python}", "-m", STUB_PROGRAM, "--port", "{port}", "--name", name]
    command += ["--scope-header", header]
    command += ["--recordings", str(recordings_path)] if recordings_path else []
    server = ServerConfig(
        name=name,
        command=tuple(command),
        port=port(raw, key),
        ready=Readiness("tcp"),
        url="http://127.0.0.1:{port}",
        depends_on=(),
        install_hint=None,
        start_timeout=positive_number(raw, "start_timeout", key, start_timeout),
        stop_timeout=positive_number(raw, "stop_timeout", key, stop_timeout),
        table="stubs",
    )
    return StubConfig(name, server, header, recordings_path, tuple(recordings))
