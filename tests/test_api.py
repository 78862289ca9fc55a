"""The public names of `harness`: a change here is a change to every user's imports."""

from __future__ import annotations

import harness


def test_public_api_is_pinned():
    assert harness.__all__ == [
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


def test_every_public_name_exists_and_errors_share_the_base():
    for name in harness.__all__:
        assert getattr(harness, name) is not None
    errors = [getattr(harness, n) for n in harness.__all__ if n.endswith(("Error", "Violation"))]
    assert all(issubclass(error, harness.HarnessError) for error in errors)
