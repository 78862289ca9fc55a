"""The public names of `harness`: a change here is a change to every user's imports."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import harness
import harness.db


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


WINGS = ("infra", "config", "db", "stack", "migrations", "contracts", "perf", "reports", "testing")


def test_every_wing_names_only_what_it_can_give():
    for wing in WINGS:
        package = importlib.import_module(f"harness.{wing}")
        assert package.__all__, wing
        for name in package.__all__:
            assert getattr(package, name) is not None, f"harness.{wing}.{name}"


def test_a_name_a_wing_does_not_have_is_refused_naming_the_wing():
    with pytest.raises(AttributeError, match=r"module 'harness\.db' has no attribute 'Stack'"):
        harness.db.Stack  # noqa: B018


def test_importing_a_wing_imports_none_of_its_modules_until_a_name_is_used():
    probe = (
        "import sys, harness.db, harness.contracts, harness.perf;"
        "print(sorted(m for m in sys.modules if m.count('.') == 2 and '._' in m))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"
