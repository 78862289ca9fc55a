"""The pytest plugin: a stack brought up for the session, or attached to a running run."""

from __future__ import annotations

import json
import runpy

from conftest import APP, app_command
from harness.config._project import parse_config
from harness.infra._ports import unbound_port
from harness.stack._stack import Stack

TEST_FILE = """
def test_api_answers(service_clients, service_urls, harness_backend):
    assert harness_backend == "sqlite"
    response = service_clients["api"].get("/health")
    assert response.status_code == 200
    print("URL", service_urls["api"])
"""


def write_project(pytester) -> None:
    command = ", ".join(f'"{arg}"' for arg in app_command())
    pytester.makefile(".toml", pyproject=f"[tool.harness.services.api]\ncommand = [{command}]\n")
    pytester.makepyfile(test_live=TEST_FILE)


def test_plugin_brings_a_stack_up_and_takes_it_down(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_project(pytester)

    result = pytester.runpytest_subprocess("-s", "--junitxml=junit.xml")

    result.assert_outcomes(passed=1)
    junit = (pytester.path / "junit.xml").read_text()
    assert 'name="harness.backend" value="sqlite"' in junit
    assert 'name="harness.run_id" value="pytest-' in junit
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []


def test_plugin_attaches_to_a_run_that_is_up(pytester, monkeypatch):
    write_project(pytester)
    config = parse_config({"services": {"api": {"command": app_command()}}}, root=pytester.path)
    stack = Stack(config, "attached")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        monkeypatch.setenv("HARNESS_RUN", "attached")

        result = pytester.runpytest_subprocess("-s")

        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"*URL {state.services['api'].url}*"])
        assert state.services["api"].process.matches()  # still up: not the plugin's to stop
    finally:
        assert stack.down().ok


CONFORMANCE_TEST = """
import pytest
from harness.exceptions import ContractViolation


def test_documented_response_passes(service_clients, contract_service):
    assert service_clients[contract_service].get("/health").status_code == 200


def test_undocumented_response_is_a_violation(service_clients):
    with pytest.raises(ContractViolation, match="GET /env is not an operation of the contract"):
        service_clients["api"].get("/env")
"""


def test_clients_check_responses_against_the_checked_in_contract(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    command = ", ".join(f'"{arg}"' for arg in app_command())
    service = f'[tool.harness.services.api]\ncommand = [{command}]\nopenapi = "/openapi.json"\n'
    pytester.makefile(".toml", pyproject=service)
    contract = runpy.run_path(str(APP))["OPENAPI"]
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "api.json").write_text(json.dumps(contract))
    pytester.makepyfile(test_conformance=CONFORMANCE_TEST)

    result = pytester.runpytest_subprocess("-v", "--junitxml=junit.xml")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_documented_response_passes?api? PASSED*"])
    junit = (pytester.path / "junit.xml").read_text()
    assert 'name="harness.conformance.api" value="2"' in junit


XDIST_TEST = """
import json
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(4))
def test_worker_stack(n, service_urls, harness_stack):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    seen = Path(os.environ["SEEN_DIR"]) / f"{worker}-{n}.json"
    seen.write_text(json.dumps([worker, service_urls["api"], harness_stack.run_id]))
"""


def test_under_xdist_each_worker_brings_its_own_stack_ports_and_run(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    seen_dir = pytester.mkdir("seen")
    monkeypatch.setenv("SEEN_DIR", str(seen_dir))
    write_project(pytester)
    pytester.makepyfile(test_live=XDIST_TEST)

    result = pytester.runpytest_subprocess("-n", "2")

    result.assert_outcomes(passed=4)
    stacks = {tuple(json.loads(path.read_text())) for path in seen_dir.iterdir()}
    workers = {worker for worker, _, _ in stacks}
    assert workers == {"gw0", "gw1"} and len(stacks) == 2  # one stack per worker
    assert len({url for _, url, _ in stacks}) == len({run for _, _, run in stacks}) == 2
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []


def test_a_shipped_suite_runs_alone_with_no_test_file_and_the_first_back_end(pytester, monkeypatch):
    """`backends = ["postgres"]`: a stack the plugin brings up is on PostgreSQL."""
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    monkeypatch.delenv("HARNESS_DB", raising=False)
    command = ", ".join(f'"{arg}"' for arg in app_command())
    pytester.makefile(
        ".toml",
        pyproject=(
            '[tool.harness]\nbackends = ["postgres"]\n'
            f'[tool.harness.services.api]\ncommand = [{command}]\nopenapi = "/openapi.json"\n'
            "database = true\n"
        ),
    )
    pytester.makepyfile(test_unrelated="def test_not_asked_for():\n    raise AssertionError\n")
    contract = pytester.mkdir("contracts") / "api.json"
    contract.write_text(json.dumps(runpy.run_path(str(APP))["OPENAPI"]))

    result = pytester.runpytest_subprocess(
        "--harness-suite", "contracts", "-k", "drift", "-v", "--junitxml=junit.xml"
    )

    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["harness/suites/contracts.py::test_drift*api* PASSED*"])
    junit = (pytester.path / "junit.xml").read_text()
    assert 'name="harness.backend" value="postgres"' in junit
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []


def test_a_stack_that_cannot_start_is_one_line_with_the_password_masked(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    monkeypatch.setenv(
        "HARNESS_POSTGRES_URL", f"postgresql://app:hunter2@127.0.0.1:{unbound_port()}/postgres"
    )
    write_project(pytester)

    result = pytester.runpytest_subprocess("--harness-db", "postgres", "--junitxml=junit.xml")

    result.assert_outcomes(errors=1)
    junit = (pytester.path / "junit.xml").read_text()
    output = result.stdout.str()
    for text in (output, junit):
        assert "hunter2" not in text
        assert "harness: cannot connect to PostgreSQL at postgresql://app:***@127.0.0.1:" in text
    assert "Traceback" not in output and "During handling" not in output
    assert "def harness_stack" not in output  # no source, no frames: one line
