"""harness.nox, the Nox helpers: light to import (every nox call loads the noxfile); shards."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.nox import names_tests, shard_of

HEAVY = ("httpx", "psutil", "sqlalchemy", "psycopg", "alembic", "pytest", "coverage")


def test_importing_the_helpers_imports_none_of_the_heavy_dependencies():
    """Every nox call loads the noxfile, `nox -l` too: the helpers stay quick to import."""
    probe = "import sys, harness.nox; print(sorted({m.split('.')[0] for m in sys.modules}))"
    # not measured: coverage's .pth hook would import coverage itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout

    assert "nox" in loaded
    assert [name for name in HEAVY if f"'{name}'" in loaded] == []


class FakeSession:
    """What shard_of reads of a nox.Session: its posargs, and error() to stop it."""

    def __init__(self, *posargs: str) -> None:
        self.posargs = list(posargs)

    def error(self, message: str) -> None:
        raise SystemExit(message)


@pytest.mark.parametrize(
    "posargs, shard",
    [
        ((), None),
        (("-x", "--splits", "3", "--group", "2"), (2, 3)),
        (("--splits=2", "--group=1"), (1, 2)),
    ],
)
def test_a_shard_is_read_from_pytest_splits_arguments(posargs, shard):
    assert shard_of(FakeSession(*posargs)) == shard


@pytest.mark.parametrize("posargs", [("--splits", "2"), ("--splits", "2", "--group", "3")])
def test_a_shard_needs_both_numbers_with_the_group_in_range(posargs):
    with pytest.raises(SystemExit, match="give both --splits N and --group K"):
        shard_of(FakeSession(*posargs))


@pytest.mark.parametrize(
    "posargs, named",
    [
        ((), False),
        (("-k", "case_events", "-x"), False),
        (("tests/test_nox.py",), True),
        (("-x", "tests/test_nox.py::test_a_shard_is_read_from_pytest_splits_arguments"), True),
        (("tests/no_such_file.py",), False),  # not a path: pytest will say so itself
        (("--junitxml", "pyproject.toml", "--basetemp", "tests"), False),  # options' values
    ],
)
def test_posargs_that_name_existing_tests_replace_the_package(posargs, named):
    assert names_tests(posargs) is named
