"""Third-party stubs in a stack: a server of the run like any other (wired as `<NAME>_URL`,
a status row, its log, stopped by `down` from the state file alone), scripted per scope."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import httpx
import pytest

from conftest import app_command, assert_nothing_left
from harness.exceptions import PortInUseError, ServiceStartError
from harness.infra._ports import unbound_port
from harness.stack._stack import Stack
from harness.testing import Stub


def env_of(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url + "/env", timeout=30) as response:
        return json.load(response)


def test_a_dependant_gets_the_stubs_url_and_the_stub_answers_as_scripted(make_config):
    config = make_config(
        {
            "api": {"command": app_command(), "depends_on": ["mail"]},
            "other": {"command": app_command()},
        },
        stubs={"mail": {}},
    )
    stack = Stack(config, "stubbed")
    state = stack.up("sqlite", auto_ports=True)
    try:
        record = state.servers["mail"]
        assert record.url == f"http://127.0.0.1:{record.port}"
        assert env_of(state.services["api"].url)["MAIL_URL"] == record.url
        assert "MAIL_URL" not in env_of(state.services["other"].url)
        stub = Stub(config.stubs["mail"], record.url, "t-1")
        stub.respond(201, json={"id": 7})
        answer = httpx.post(record.url + "/v1/x", headers=stub.headers, json={}, trust_env=False)
        assert (answer.status_code, answer.json()) == (201, {"id": 7})
        assert [(r.method, r.path) for r in stub.requests] == [("POST", "/v1/x")]
        rows = {row.name: row for row in stack.status()}
        assert (rows["mail"].kind, rows["mail"].running, rows["mail"].healthy) == (
            "server",
            True,
            True,
        )
        assert "stub 'mail' listening on" in Path(record.log_path).read_text()
        stub.close()
    finally:
        report = Stack(config, "stubbed").down()  # another Stack: it knows only the state file
    assert report.ok, report.problems
    assert report.stopped.index("api") < report.stopped.index("mail")  # dependants first
    assert_nothing_left(state)


def test_a_stubs_configured_port_held_by_another_run_names_the_stubs_table(make_config):
    port = unbound_port()  # free now; another program may take a fixed number
    config = make_config({"api": {"command": app_command()}}, stubs={"mail": {"port": port}})
    first = Stack(config, "first")
    first.up("sqlite")
    try:
        match = rf"port {port} \(tool\.harness\.stubs\.mail\.port\)"
        with pytest.raises(PortInUseError, match=match):
            Stack(config, "second").up("sqlite")
    finally:
        assert first.down().ok


def test_a_recordings_file_broken_after_the_config_was_read_fails_the_start(make_config, tmp_path):
    (tmp_path / "mail.json").write_text(
        json.dumps([{"request": {"method": "GET", "path": "/"}, "response": {"status": 200}}])
    )
    config = make_config(
        {"api": {"command": app_command(), "depends_on": ["mail"]}},
        stubs={"mail": {"recordings": "mail.json"}},
    )
    (tmp_path / "mail.json").write_text("[")

    with pytest.raises(ServiceStartError) as caught:
        Stack(config, "broken").up("sqlite", auto_ports=True)

    message = str(caught.value)
    assert message.startswith("server 'mail' failed to start: it exited during start")
    assert "not valid JSON" in message
