"""The stub server (`python -m harness.testing.stub_server`, a real process on a real port)
driven by its client `harness.testing.Stub`: scripted answers and faults, the journal,
scopes that keep tests apart, recordings as default answers and as a contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import patience
from harness.config import StubConfig
from harness.config._project import parse_config
from harness.exceptions import HarnessError
from harness.infra import PortReservations, TcpProbe, spawn, wait_ready
from harness.stack._servers import fill
from harness.testing import Stub, StubMismatch, Stubs

RECORDED = [
    {
        "request": {
            "method": "POST",
            "path": "/v1/messages",
            "headers": {"Authorization": "Bearer test", "Idempotency-Key": "k-1"},
            "json": {"to": ["a@b.example"], "subject": "s", "attempt": 1},
        },
        "response": {"status": 202, "json": {"id": "msg_recorded"}},
    }
]


def stub_config(tmp_path: Path, **table: object) -> StubConfig:
    services = {"api": {"command": ["app", "{port}"], "depends_on": ["mail"]}}
    config = parse_config({"services": services, "stubs": {"mail": table}}, root=tmp_path)
    return config.stubs["mail"]


@pytest.fixture
def recordings(tmp_path: Path) -> str:
    (tmp_path / "mail.json").write_text(json.dumps(RECORDED))
    return "mail.json"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[[StubConfig], str]]:
    """`running(config)`: the URL of the stub program started as its server config says."""
    processes: list[subprocess.Popen[bytes]] = []
    reservations = PortReservations.under(tmp_path)

    def start(config: StubConfig) -> str:
        port = reservations.free_port("stubs")
        command = fill(config.server.command, port, tmp_path)
        log = tmp_path / f"stub-{port}.log"
        processes.append(spawn(command, dict(os.environ), log, cwd=tmp_path))
        wait_ready("mail", processes[-1], TcpProbe(port), patience(10.0), log, threading.Event())
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=patience(10.0))


@pytest.fixture
def mail(tmp_path, running, recordings) -> Iterator[Stub]:
    config = stub_config(tmp_path, recordings=recordings)
    stub = Stub(config, running(config), "test-1")
    yield stub
    stub.close()


def send(stub: Stub, path: str = "/v1/messages", scope: bool = True, **kwargs) -> httpx.Response:
    headers = {**(stub.headers if scope else {}), **kwargs.pop("headers", {})}
    return httpx.post(stub.url + path, headers=headers, timeout=30, trust_env=False, **kwargs)


def test_a_scripted_answer_is_given_and_the_request_journalled(mail):
    mail.respond(202, json={"id": "msg_1"}, headers={"X-Request-Id": "r-1"})

    response = send(mail, json={"to": ["x@y.example"]}, headers={"Idempotency-Key": "k-9"})

    assert response.status_code == 202
    assert response.json() == {"id": "msg_1"}
    assert response.headers["x-request-id"] == "r-1"
    assert response.headers["content-type"] == "application/json"
    [request] = mail.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.header("idempotency-key") == "k-9"
    assert request.header("X-Correlation-ID") == "test-1"
    assert request.json() == {"to": ["x@y.example"]}


def test_answers_are_used_in_order_each_for_its_times_then_the_recording(mail):
    mail.respond(503, body="busy", times=2)
    mail.respond(429, headers={"Retry-After": "1"})

    statuses = [send(mail, json={}).status_code for _ in range(4)]

    assert statuses == [503, 503, 429, 202]
    assert send(mail, json={}).json() == {"id": "msg_recorded"}  # recorded, every time after
    assert len(mail.requests) == 5


def test_a_request_with_no_answer_scripted_or_recorded_is_a_501_saying_so(mail):
    response = send(mail, "/v2/unknown")

    assert response.status_code == 501
    assert "stub 'mail' has no answer for POST /v2/unknown (scope 'test-1')" in response.text


def test_a_reset_and_a_drop_give_no_answer(mail):
    mail.reset()
    mail.drop()

    with pytest.raises(httpx.ReadError):  # ECONNRESET: the stub reset the connection
        send(mail, json={})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        send(mail, json={})
    assert send(mail, json={}).status_code == 202  # the faults were used up
    assert len(mail.requests) == 3


def test_a_delay_longer_than_the_clients_timeout_times_it_out_and_clear_ends_it(mail):
    mail.respond(202, delay=600)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(mail.url + "/v1/messages", headers=mail.headers, timeout=0.5, trust_env=False)
    mail.clear()

    assert mail.requests == []
    assert send(mail, json={}).status_code == 202  # the delayed answer is gone, not queued


def test_scopes_keep_scripts_and_journals_apart(tmp_path, running, recordings):
    config = stub_config(tmp_path, recordings=recordings)
    url = running(config)
    first, second = Stub(config, url, "gw0-a"), Stub(config, url, "gw1-b")
    first.respond(500)

    assert send(second, json={}).status_code == 202  # the recording: first's 500 is first's
    assert send(first, json={}).status_code == 500
    assert send(first, scope=False, json={}).status_code == 202  # no header: the default scope

    assert [r.header("X-Correlation-ID") for r in first.requests] == ["gw0-a"]
    assert [r.header("X-Correlation-ID") for r in second.requests] == ["gw1-b"]
    assert len(Stub(config, url, "default").requests) == 1


def test_the_scope_header_is_configurable(tmp_path, running):
    config = stub_config(tmp_path, scope_header="Traceparent-Id")
    stub = Stub(config, running(config), "t-7")
    stub.respond(204)

    assert send(stub, json={}).status_code == 204
    assert stub.headers == {"Traceparent-Id": "t-7"}


def test_what_was_sent_is_checked_against_the_recording(mail):
    mail.respond(202, times=3)
    recorded = {"Authorization": "Bearer x", "Idempotency-Key": "k"}
    send(mail, json={"to": ["b@c.example"], "subject": "t", "attempt": 2}, headers=recorded)
    mail.check_recorded()  # same fields and types, other values: passes

    send(mail, json={"to": "b@c.example", "attempt": 2, "cc": []}, headers={"Authorization": "x"})
    send(mail, "/v1/other", json={})

    with pytest.raises(StubMismatch) as caught:
        mail.check_recorded()
    assert str(caught.value).splitlines()[1:] == [
        "  POST /v1/messages: header Idempotency-Key: recorded, not sent",
        "  POST /v1/messages: body.subject: recorded, not sent",
        "  POST /v1/messages: body.cc: sent, not recorded",
        "  POST /v1/messages: body.to: recorded as array, sent as string",
        "  POST /v1/other: no recording of this method and path",
    ]


def test_a_stub_without_recordings_cannot_check_against_them(tmp_path, running):
    config = stub_config(tmp_path)
    stub = Stub(config, running(config), "t")

    with pytest.raises(HarnessError, match=r"set tool.harness.stubs.mail.recordings"):
        stub.check_recorded()


def test_a_bad_script_is_refused_by_the_stub(mail):
    with pytest.raises(HarnessError, match=r"refused POST .*400 stub 'mail': not a scripted"):
        mail.respond(99)
    with pytest.raises(ValueError, match="at least one request"):
        mail.respond(200, times=0)


def test_a_stub_not_declared_is_a_key_error_naming_the_declared_ones(tmp_path):
    config = stub_config(tmp_path)
    stubs = Stubs({"mail": config}, {"mail": "http://127.0.0.1:9"}, "s")

    with pytest.raises(KeyError, match=r"no stub 'payments' in \[tool.harness.stubs\]; "):
        stubs["payments"]


def test_the_program_refuses_recordings_that_do_not_parse(tmp_path):
    (tmp_path / "bad.json").write_text('[{"request": ')

    result = subprocess.run(
        [
            *(sys.executable, "-m", "harness.testing.stub_server", "--port", "1"),
            *("--name", "mail", "--recordings", str(tmp_path / "bad.json")),
        ],
        capture_output=True,
        text=True,
        timeout=patience(30.0),
    )

    assert result.returncode == 2
    assert f"stub 'mail': {tmp_path / 'bad.json'}: not valid JSON" in result.stderr
