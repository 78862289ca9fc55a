"""The CI matrix planned from this repository's own `nox -l --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.ci_plan import PlanError, plan

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def sessions() -> list[dict]:
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json"], cwd=ROOT, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_every_package_runs_on_both_back_ends_with_its_shards(sessions):
    jobs = plan(sessions, {"contracts": 2}, {"report"})

    titles = [job["title"] for job in jobs]
    for package in ("workflows", "migrations", "perf"):
        assert f"{package}-sqlite" in titles and f"{package}-postgres" in titles
    contracts = [job for job in jobs if job["title"].startswith("contracts-postgres")]
    assert [job["posargs"] for job in contracts] == ["--splits 2 --group 1", "--splits 2 --group 2"]
    assert all(job["postgres"] for job in contracts)
    assert all(job["session"] == "contracts(db='postgres')" for job in contracts)
    assert "tests" in titles and "lint" in titles and not any("report" in t for t in titles)
    artifacts = [job["artifact"] for job in jobs]
    assert len(set(artifacts)) == len(artifacts) == 2 * 5 + 2


def test_a_session_that_does_not_exist_is_named_with_the_ones_that_do(sessions):
    with pytest.raises(PlanError, match=r"no Nox session named 'contract'; sessions: \["):
        plan(sessions, {"contract": 2}, set())


def test_the_command_line_reads_nox_output_and_rejects_anything_else(sessions):
    command = [sys.executable, "-m", "harness.cli.ci_plan", "--shards", "contracts=2"]
    good = subprocess.run(command, input=json.dumps(sessions), capture_output=True, text=True)
    bad = subprocess.run(command, input="nox > no json", capture_output=True, text=True)
    zero = subprocess.run(
        [*command, "--shards", "perf=0"], input="[]", capture_output=True, text=True
    )

    assert good.returncode == 0 and len(json.loads(good.stdout)["include"]) == 13
    assert bad.returncode == 2 and "stdin is not `nox -l --json` output" in bad.stderr
    assert zero.returncode == 2 and "expected SESSION=N with N >= 1" in zero.stderr
