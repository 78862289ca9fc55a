"""harness: bring a monorepo's HTTP services up on test ports and test them live."""

from __future__ import annotations

from harness.breaking import Finding, Verdict, breaking_changes, judge
from harness.config import HarnessConfig, ServiceConfig, load_config
from harness.conformance import ContractValidator
from harness.exceptions import (
    BackendUnavailableError,
    ConfigError,
    ContractError,
    ContractViolation,
    HarnessError,
    MigrationError,
    PortInUseError,
    RunStateError,
    ServiceStartError,
)
from harness.stack import Stack, Teardown, clean_stale_runs

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "ContractError",
    "ContractValidator",
    "ContractViolation",
    "Finding",
    "HarnessConfig",
    "HarnessError",
    "MigrationError",
    "PortInUseError",
    "RunStateError",
    "ServiceConfig",
    "ServiceStartError",
    "Stack",
    "Teardown",
    "Verdict",
    "breaking_changes",
    "clean_stale_runs",
    "judge",
    "load_config",
]
