"""The CI workflow stays clean: zizmor (offline) finds nothing, and it fits the workflow
schema, as `nox -s lint` checks; and both checks do fail a workflow that is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
BIN = Path(sys.executable).parent
# each of the holes ci.yml once had: an unpinned action, the default token's permissions,
# checkout credentials persisted into an uploaded artifact, a matrix value expanded in `run:`
UNSAFE = """
name: unsafe
on: [pull_request]
jobs:
  plan:
    runs-on: ubuntu-latest
    outputs:
      matrix: ${{ steps.plan.outputs.matrix }}
    steps:
      - id: plan
        run: echo 'matrix={"session":["a"]}' >> "$GITHUB_OUTPUT"
  test:
    needs: plan
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
    steps:
      - uses: actions/checkout@v4
      - run: nox -s "${{ matrix.session }}"
      - uses: actions/upload-artifact@v4
        with:
          name: reports
          path: .
"""
NOT_A_WORKFLOW = """
name: invalid
on: [pull_request]
permissions: {}
jobs:
  test:
    steps:
      - run: echo no runs-on
"""


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "plain", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_ci_workflow_has_no_zizmor_finding_and_fits_the_schema():
    audit, schema = zizmor(WORKFLOW), schema_check(WORKFLOW)

    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout
    assert schema.returncode == 0, schema.stdout + schema.stderr


@pytest.mark.parametrize(
    "audit", ["unpinned-uses", "excessive-permissions", "artipacked", "template-injection"]
)
def test_zizmor_fails_a_workflow_with_the_holes_ci_yml_had(tmp_path, audit):
    path = tmp_path / "unsafe.yml"
    path.write_text(UNSAFE)

    result = zizmor(path)

    assert result.returncode != 0
    assert f"[{audit}]" in result.stdout


def test_the_schema_check_fails_a_job_without_runs_on(tmp_path):
    path = tmp_path / "invalid.yml"
    path.write_text(NOT_A_WORKFLOW)

    result = schema_check(path)

    assert result.returncode == 1
    assert "'runs-on' is a required property" in result.stdout
