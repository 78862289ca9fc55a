"""The outbound guard (`harness.stack._outbound`): a run's Python processes reach 127.0.0.1
and nothing else; what they try beyond it is refused before a packet leaves, and recorded."""

from __future__ import annotations

import json
import os
import socket
import urllib.request

import pytest

from conftest import app_command
from harness.stack._outbound import (
    GUARD_DIR,
    RECORD_NAME,
    RECORD_VARIABLE,
    database_hosts,
    refusals,
)
from harness.stack._outbound.sitecustomize import check, is_local
from harness.stack._stack import Stack


@pytest.mark.parametrize(
    "host, local",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        (b"localhost", True),
        (None, True),
        ("0.0.0.0", True),
        ("192.0.2.1", False),
        ("10.0.0.7", False),
        ("mail.example.invalid", False),
        ("2001:db8::1", False),
    ],
)
def test_only_the_machine_itself_is_local(host, local):
    assert is_local(host) is local


def test_a_lookup_and_a_connect_beyond_the_machine_are_refused_and_recorded(tmp_path):
    record = tmp_path / RECORD_NAME
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # never connected
        with pytest.raises(PermissionError, match=r"connect to 192\.0\.2\.1:443 refused"):
            check("socket.connect", (sock, ("192.0.2.1", 443)), str(record))
        check("socket.connect", (sock, ("127.0.0.1", 8101)), str(record))  # allowed
    with pytest.raises(PermissionError, match=r"looking up .mail\.example\.invalid."):
        check("socket.getaddrinfo", ("mail.example.invalid", 443, 0, 0, 0), str(record))
    check("socket.getaddrinfo", ("localhost", 8101, 0, 0, 0), str(record))  # allowed

    lines = refusals(record)
    assert len(lines) == 2
    assert lines[0].endswith("connect to 192.0.2.1:443")
    assert lines[1].endswith("looking up 'mail.example.invalid' (port 443)")


def test_the_runs_own_database_server_is_reachable_wherever_it_is(tmp_path):
    # HARNESS_POSTGRES_URL may name a server elsewhere (a CI service container)
    remote = "postgresql://u:secret@db.example.invalid:5432/postgres"
    allowed = frozenset(database_hosts(remote))
    record = str(tmp_path / RECORD_NAME)

    assert allowed == {"db.example.invalid"}  # unresolvable here: its name alone
    check("socket.getaddrinfo", ("db.example.invalid", 5432, 0, 0, 0), record, allowed)
    with pytest.raises(PermissionError):
        check("socket.getaddrinfo", ("mail.example.invalid", 443, 0, 0, 0), record, allowed)
    assert "127.0.0.1" in database_hosts("postgresql://u@localhost:5432/postgres")  # + addresses
    assert database_hosts(None) == set()  # the throwaway cluster, on loopback


def test_up_hands_every_process_the_database_server_it_may_reach(make_config, monkeypatch):
    # the run's database is made after the first processes start: the host comes from the
    # server's URL, known before
    monkeypatch.setenv("HARNESS_POSTGRES_URL", "postgresql://u:secret@db.example.invalid/postgres")
    config = make_config({"api": {"command": app_command()}})
    stack = Stack(config, "guard-allows")
    state = stack.up("sqlite", auto_ports=True)
    try:
        env = get(state.services["api"].url + "/env")
    finally:
        assert stack.down().ok

    assert env["HARNESS_OUTBOUND_ALLOW"] == "db.example.invalid"


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_a_service_reaching_beyond_the_machine_is_refused_and_recorded(make_config):
    config = make_config({"api": {"command": app_command()}})
    stack = Stack(config, "guarded")
    state = stack.up("sqlite", auto_ports=True)
    try:
        url = state.services["api"].url
        assert get(url + "/connect?to=" + url.split("//")[1])["outcome"] == "connected"

        outcome = get(url + "/connect?to=192.0.2.1:9")["outcome"]

        assert outcome.startswith("PermissionError: harness outbound guard: connect to 192.0.2.1")
        [line] = refusals(stack.run.logs / RECORD_NAME)
        assert line.startswith(f"pid {state.services['api'].process.pid} (")
        assert line.endswith("connect to 192.0.2.1:9")
    finally:
        assert stack.down().ok


def test_outbound_allow_loads_no_guard(make_config):
    config = make_config({"api": {"command": app_command()}}, outbound="allow")
    stack = Stack(config, "unguarded")
    state = stack.up("sqlite", auto_ports=True)
    try:
        env = get(state.services["api"].url + "/env")
        assert RECORD_VARIABLE not in env
        assert str(GUARD_DIR) not in env["PYTHONPATH"].split(os.pathsep)
    finally:
        assert stack.down().ok
