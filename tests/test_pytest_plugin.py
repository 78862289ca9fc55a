"""The pytest plugin: a stack brought up for the session, or attached to a running run."""

from __future__ import annotations

from conftest import app_command

from harness.config import parse_config
from harness.stack import Stack

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
