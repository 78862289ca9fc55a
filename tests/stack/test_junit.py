"""harness's lifecycle suite: each service's start and stop as a JUnit case with its time,
failed when a service did not start or left something behind."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import JUnitXml
from sqlalchemy.engine import make_url

from harness.exceptions import MigrationError, ServiceStartError
from harness.reports._junit_merge import outcome
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack._stack import Stack
from tests.conftest import app_command, assert_nothing_left, leaky_history


def lifecycle_cases(path: Path) -> dict[str, tuple[str, float]]:
    """Case name -> (outcome, seconds)."""
    found = {}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            found[case.name or ""] = (outcome(case), case.time or 0.0)
    return found


def test_up_and_down_write_each_start_and_stop_with_its_time(two_services, tmp_path):
    path = tmp_path / "junit" / "run.lifecycle.xml"
    stack = Stack(two_services, "lifecycle")
    state = stack.up("sqlite", auto_ports=True, detach=True, lifecycle_junit=path)
    assert not path.exists()  # written when the run ends

    assert stack.down().ok

    cases = lifecycle_cases(path)
    assert list(cases) == ["start alpha", "start beta", "stop beta", "stop alpha", "teardown"]
    assert {outcome for outcome, _ in cases.values()} == {"passed"}
    assert all(seconds > 0 for name, (_, seconds) in cases.items() if name != "teardown")
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "lifecycle[lifecycle]"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"harness.backend": "sqlite", "harness.run_id": "lifecycle"}
    assert_nothing_left(state)


def test_a_service_that_fails_to_start_is_a_failed_case_with_its_reason(make_config, tmp_path):
    config = make_config(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "broken": {"command": app_command("exit", "--name", "broken"), "depends_on": ["alpha"]},
        }
    )
    path = tmp_path / "broken.lifecycle.xml"

    with pytest.raises(ServiceStartError):
        Stack(config, "broken").up("sqlite", auto_ports=True, lifecycle_junit=path)

    cases = lifecycle_cases(path)
    assert cases["start alpha"][0] == "passed"
    assert cases["start broken"][0] == "failure"
    assert cases["stop alpha"][0] == cases["teardown"][0] == "passed"
    failure = ET.parse(path).getroot().find(".//testcase[@name='start broken']/failure")
    assert failure is not None and failure.get("message") == "it exited during start"
    assert "fatal: SETTING_X is missing" in (failure.text or "")


def test_a_process_left_behind_fails_the_teardown_case(make_config, tmp_path):
    config = make_config({"leaky": {"command": app_command("grandchild")}})
    path = tmp_path / "leaky.lifecycle.xml"
    stack = Stack(config, "leaky")
    state = stack.up("sqlite", auto_ports=True, lifecycle_junit=path)

    stack.down()

    cases = lifecycle_cases(path)
    assert cases["start leaky"][0] == cases["stop leaky"][0] == "passed"
    assert cases["teardown"][0] == "failure"
    failure = ET.parse(path).getroot().find(".//testcase[@name='teardown']/failure")
    assert failure is not None and "escaped its process group" in (failure.get("message") or "")
    assert_nothing_left(state)


def test_a_failed_start_is_written_with_the_password_masked(
    make_config, server, monkeypatch, tmp_path
):
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    password = make_url(server).password
    assert password
    history = leaky_history(tmp_path / "history")
    service = {"command": app_command(), "database": True, "migrations": str(history)}
    path = tmp_path / "junit" / "run.lifecycle.xml"
    stack = Stack(make_config({"api": service}), "leaky")

    with pytest.raises(MigrationError, match="cannot migrate"):
        stack.up("postgres", auto_ports=True, lifecycle_junit=path)

    written = path.read_text()
    assert password not in written
    assert "cannot migrate postgresql+psycopg://postgres:***@127.0.0.1:" in written
