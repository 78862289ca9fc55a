"""[tool.harness.stubs]: third-party stubs, servers of harness's stub program; every mistake
(recordings files included) is one line naming the key."""

from __future__ import annotations

import json

import pytest

from conftest import app_command, config_error
from harness.config._project import parse_config
from harness.config._servers import Readiness

SERVICE = {"command": app_command(), "depends_on": ["mail"]}
PAIR = {"request": {"method": "POST", "path": "/v1/messages"}, "response": {"status": 202}}


def config_with(tmp_path, stubs, servers=None, services=None):
    table = {"services": services or {"api": SERVICE}, "stubs": stubs}
    return parse_config({**table, **({"servers": servers} if servers else {})}, root=tmp_path)


def test_a_stub_is_a_server_of_the_stub_program_its_dependants_find_by_url(tmp_path):
    (tmp_path / "mail.json").write_text(json.dumps([PAIR]))

    config = config_with(tmp_path, {"mail": {"recordings": "mail.json", "port": 8190}})

    stub, server = config.stubs["mail"], config.servers["mail"]
    assert stub.server is server
    assert server.command == (
        "{python}",
        *("-m", "harness.testing.stub_server", "--port", "{port}", "--name", "mail"),
        *("--scope-header", "X-Correlation-ID", "--recordings", str(tmp_path / "mail.json")),
    )
    assert (server.port, server.ready, server.url) == (
        8190,
        Readiness("tcp"),
        "http://127.0.0.1:{port}",
    )
    assert (server.url_variable, server.key) == ("MAIL_URL", "tool.harness.stubs.mail")
    assert [(r.method, r.path, r.response.status) for r in stub.recordings] == [
        ("POST", "/v1/messages", 202)
    ]
    assert config.start_order() == [["api"]]  # a stub starts with the servers


@pytest.mark.parametrize(
    "stubs, key, hint",
    [
        ({"mail": {"recording": "x.json"}}, "tool.harness.stubs.mail.recording", "did you mean"),
        ({"mail": []}, "tool.harness.stubs.mail", "must be a table"),
        ({"m@il": {}}, "tool.harness.stubs.m@il", "letters, digits"),
        ({"mail": {"scope_header": "X Scope"}}, "tool.harness.stubs.mail.scope_header", "header"),
        ({"mail": {"port": 80}}, "tool.harness.stubs.mail.port", "1024 to 65535"),
        ({"mail": {"start_timeout": 0}}, "tool.harness.stubs.mail.start_timeout", "positive"),
        ({"mail": {"recordings": 3}}, "tool.harness.stubs.mail.recordings", "must be a string"),
    ],
)
def test_a_bad_stub_table_is_one_line_naming_the_key(tmp_path, stubs, key, hint):
    services = {"api": {"command": app_command()}}
    message = config_error({"services": services, "stubs": stubs}, tmp_path)

    assert message.startswith(key + ":") or message.startswith(key + " ")
    assert hint in message


def test_a_stub_may_not_take_a_service_or_server_name(tmp_path):
    services = {"api": {"command": app_command()}}
    servers = {"cache": {"command": ["cache-server", "{port}"]}}

    clash = config_error({"services": services, "stubs": {"api": {}}}, tmp_path)
    assert clash == "tool.harness.stubs.api: 'api' is already a service; give the stub another name"
    table = {"services": services, "servers": servers, "stubs": {"cache": {}}}
    assert "'cache' is already a server" in config_error(table, tmp_path)


def test_a_port_clash_names_the_stubs_table(tmp_path):
    services = {"api": {"command": app_command(), "port": 8190}}

    message = config_error({"services": services, "stubs": {"mail": {"port": 8190}}}, tmp_path)

    assert message == "tool.harness.stubs.mail.port: 8190 is already the port of 'api'"


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[{"request": ', "not valid JSON: Expecting value: line 1 column 14 (char 13)"),
        ("[]", "must be a non-empty list of {request, response} pairs"),
        ('[{"request": {}}]', "[0]: must be an object with exactly 'request' and 'response'"),
        (
            json.dumps([PAIR, {**PAIR, "request": {"method": "POST", "path": "v1"}}]),
            "[1].request.path: must be a path starting with '/', got 'v1'",
        ),
        (
            json.dumps([{**PAIR, "response": {"status": 2020}}]),
            "[0].response.status: must be an HTTP status, got 2020",
        ),
        (
            json.dumps([{**PAIR, "response": {"status": 200, "jsn": {}}}]),
            "[0].response.jsn: unknown key; did you mean 'json'?",
        ),
        (
            json.dumps([{**PAIR, "response": {"status": 200, "json": {}, "body": ""}}]),
            "[0].response: give 'json' or 'body', not both",
        ),
        (
            json.dumps([{**PAIR, "request": {**PAIR["request"], "headers": {"A": 1}}}]),
            "[0].request.headers: must be an object of strings",
        ),
    ],
    ids=[
        "not-json",
        "empty",
        "no-response",
        "path",
        "status",
        "unknown-key",
        "json-and-body",
        "headers",
    ],
)
def test_a_recordings_file_that_does_not_parse_is_one_line_naming_file_and_pair(
    tmp_path, text, problem
):
    (tmp_path / "mail.json").write_text(text)
    table = {"services": {"api": SERVICE}, "stubs": {"mail": {"recordings": "mail.json"}}}

    message = config_error(table, tmp_path)

    assert message == f"tool.harness.stubs.mail.recordings: {tmp_path / 'mail.json'}: {problem}"


def test_a_missing_recordings_file_is_named(tmp_path):
    table = {"services": {"api": SERVICE}, "stubs": {"mail": {"recordings": "none.json"}}}

    assert config_error(table, tmp_path) == (
        f"tool.harness.stubs.mail.recordings: {tmp_path / 'none.json'}: not found"
    )
