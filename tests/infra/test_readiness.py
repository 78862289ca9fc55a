"""harness.infra._readiness: which checks the probed process notices, on real sockets."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.infra import HOST, CommandProbe, HttpProbe, TcpProbe


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port held bound but not listening: every connection to it is refused."""
    with socket.socket() as held:
        held.bind((HOST, 0))
        yield held.getsockname()[1]


class _Answers(http.server.BaseHTTPRequestHandler):
    status = 503

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer((HOST, 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_http_probe_goes_unnoticed_only_while_nothing_listens(refusing_port, answering):
    refused = HttpProbe("api", f"http://{HOST}:{refusing_port}/health", Path())
    assert refused.check(1.0) == "last error: ConnectionRefusedError"
    assert refused.unnoticed

    port = answering.server_address[1]
    probe = HttpProbe("api", f"http://{HOST}:{port}/health", Path())
    assert probe.check(1.0) == "last answer: HTTP 503"
    assert not probe.unnoticed  # the service saw a request: the next one backs off
    _Answers.status = 200
    try:
        assert probe.check(1.0) is None
    finally:
        _Answers.status = 503
        probe.close()


def test_a_refused_connect_goes_unnoticed_and_a_command_never_does(refusing_port, tmp_path):
    tcp = TcpProbe(refusing_port)
    assert tcp.check(1.0) is not None and tcp.unnoticed

    command = CommandProbe(["false"], {}, tmp_path)
    assert command.check(1.0) == "last attempt: exit 1"
    assert not command.unnoticed
