"""Errors harness reports to people. Every one is an expected failure with a one-screen message.

HarnessError
├── ConfigError            [tool.harness] is wrong; the message names the key
├── PortInUseError         a port is held by another program (named by pid and command)
├── ServiceStartError      a service or auxiliary server exited, never got ready, could
│                          not be spawned, or its binary is not installed
├── BackendUnavailableError  no PostgreSQL server or binaries, or the server refused us
├── RunStateError          a run is already up, is not up, or its state file is unreadable
├── MigrationError         a service's Alembic history failed to apply
└── ContractError          a contract document is missing, unreadable or not kept
    └── ContractViolation  a live response does not match its service's contract
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: an expected failure whose message tells what to do."""


class ConfigError(HarnessError):
    """`[tool.harness]` is missing or invalid."""


class PortInUseError(HarnessError):
    """A port harness needs is held by a program harness did not start."""

    def __init__(self, message: str, port: int) -> None:
        super().__init__(message)
        self.port = port


class ServiceStartError(HarnessError):
    """A service (or an auxiliary server) failed to start; carries its name, exit code and
    the end of its log."""

    def __init__(
        self,
        service: str,
        reason: str,
        exit_code: int | None = None,
        log_tail: str = "",
        kind: str = "service",
    ) -> None:
        self.service = service  # its name (a service's or, with kind "server", a server's)
        self.reason = reason
        self.exit_code = exit_code
        self.log_tail = log_tail
        self.kind = kind
        lines = [f"{kind} {service!r} failed to start: {reason}"]
        if exit_code is not None:
            lines.append(f"exit code: {exit_code}")
        if log_tail:
            lines += ["last lines of its log:", *("  " + line for line in log_tail.splitlines())]
        super().__init__("\n".join(lines))


class BackendUnavailableError(HarnessError):
    """The database back end cannot be provisioned."""


class RunStateError(HarnessError):
    """A run is not in the state the command needs."""


class MigrationError(HarnessError):
    """A service's Alembic history failed to apply."""


class ContractError(HarnessError):
    """A checked-in contract is missing or unreadable, or a base revision cannot be read."""


class ContractViolation(ContractError):
    """A response a test received is not what the service's checked-in contract documents."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems
