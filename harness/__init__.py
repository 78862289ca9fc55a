"""harness: bring a monorepo's HTTP services up on test ports and test them live."""

from __future__ import annotations

from harness.config import HarnessConfig, ServiceConfig, load_config
from harness.exceptions import (
    BackendUnavailableError,
    ConfigError,
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
    "HarnessConfig",
    "HarnessError",
    "MigrationError",
    "PortInUseError",
    "RunStateError",
    "ServiceConfig",
    "ServiceStartError",
    "Stack",
    "Teardown",
    "clean_stale_runs",
    "load_config",
]
