"""The fault proxy in front of a real local HTTP server, over real sockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import patience
from harness.infra._ports import is_port_free
from harness.testing._faults import FaultProxy, ProxyError


class Echo(BaseHTTPRequestHandler):
    """Answers every request with its method, path and body; counts what it received."""

    received: list[tuple[str, str, bytes]]

    def _echo(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.command, self.path, body))  # type: ignore[attr-defined]
        answer = json.dumps(
            {"method": self.command, "path": self.path, "body": body.decode(), "pad": "x" * 2000}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = _echo

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: ThreadingHTTPServer) -> Iterator[FaultProxy]:
    with FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}") as proxy:
        yield proxy


def received(upstream: ThreadingHTTPServer) -> list[tuple[str, str, bytes]]:
    return upstream.received  # type: ignore[attr-defined, no-any-return]


def test_forwards_requests_and_bodies_unchanged(proxy, upstream):
    with httpx.Client(base_url=proxy.url) as client:
        got = client.get("/cases/1?x=2")
        posted = client.post("/cases", json={"name": "Roe"})

    assert got.status_code == 200
    assert got.json()["path"] == "/cases/1?x=2"
    assert json.loads(posted.json()["body"]) == {"name": "Roe"}
    assert [(m, p) for m, p, _ in received(upstream)] == [
        ("GET", "/cases/1?x=2"),
        ("POST", "/cases"),
    ]
    assert [r.fault for r in proxy.requests] == ["forwarded", "forwarded"]


def test_forwards_a_chunked_body(proxy, upstream):
    response = httpx.post(proxy.url + "/upload", content=iter([b"first,", b"second"]))

    assert response.json()["body"] == "first,second"


def test_respond_answers_in_the_upstreams_place_for_the_next_n_requests(proxy, upstream):
    proxy.respond(503, headers={"Retry-After": "3"}, body=b"busy", times=2)

    answers = [httpx.get(proxy.url + "/cases") for _ in range(3)]

    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].text == "busy"
    assert len(received(upstream)) == 1
    assert [r.fault for r in proxy.requests] == ["503", "503", "forwarded"]


def test_faults_apply_in_the_order_they_were_added(proxy):
    proxy.respond(429, times=1)
    proxy.respond(503, times=1)

    statuses = [httpx.get(proxy.url + "/").status_code for _ in range(3)]

    assert statuses == [429, 503, 200]


def test_delay_holds_the_request_past_a_clients_timeout_and_still_forwards_it(proxy, upstream):
    proxy.delay(0.5)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(proxy.url + "/cases", json={}, timeout=0.1)

    deadline = time.monotonic() + patience(5)
    while not received(upstream) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m for m, _, _ in received(upstream)] == ["POST"]
    assert proxy.requests[0].fault == "delayed 0.5s"


def test_reset_breaks_the_answer_after_the_upstream_did_the_work(proxy, upstream):
    proxy.reset()

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        httpx.post(proxy.url + "/cases", json={"name": "Roe"})

    assert [m for m, _, _ in received(upstream)] == ["POST"]
    assert httpx.get(proxy.url + "/after").status_code == 200


def test_refuse_closes_the_port_until_accept(proxy):
    port = int(proxy.url.rsplit(":", 1)[1])
    proxy.refuse()

    with pytest.raises(httpx.ConnectError):
        httpx.get(proxy.url + "/")
    assert is_port_free(port)

    proxy.accept()
    assert httpx.get(proxy.url + "/").status_code == 200
    assert proxy.url.endswith(f":{port}")


def test_refuse_for_some_seconds_listens_again_by_itself(proxy):
    proxy.refuse(seconds=0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(proxy.url + "/")

    deadline = time.monotonic() + patience(5)
    while time.monotonic() < deadline:
        try:
            assert httpx.get(proxy.url + "/").status_code == 200
            return
        except httpx.ConnectError:
            time.sleep(0.05)
    pytest.fail("the proxy did not listen again after refuse(seconds=0.2)")


def test_clear_drops_pending_faults(proxy):
    proxy.respond(503, times=5)
    proxy.clear()

    assert httpx.get(proxy.url + "/").status_code == 200


def test_upstream_down_is_a_502_that_names_it():
    with FaultProxy("http://127.0.0.1:9") as proxy:
        response = httpx.get(proxy.url + "/")

    assert response.status_code == 502
    assert "upstream 127.0.0.1:9" in response.text


def test_stop_frees_the_port(upstream):
    proxy = FaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}").start()
    port = int(proxy.url.rsplit(":", 1)[1])
    proxy.delay(30)
    outcome: list[BaseException] = []

    def held_request() -> None:
        try:
            httpx.get(proxy.url + "/", timeout=10)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    pending = threading.Thread(target=held_request)
    pending.start()
    time.sleep(0.2)

    proxy.stop()

    pending.join(10)
    assert not pending.is_alive()
    assert len(outcome) == 1, "the held request should end with an error, not an answer"
    assert is_port_free(port)


@pytest.mark.parametrize("upstream_url", ["records:8101", "https://127.0.0.1:1", "http://host"])
def test_bad_upstream_is_a_clear_error(upstream_url):
    with pytest.raises(ProxyError, match="expected http://HOST:PORT"):
        FaultProxy(upstream_url)


def test_a_fault_for_no_request_is_refused(proxy):
    with pytest.raises(ValueError, match="at least one request"):
        proxy.respond(503, times=0)


def test_port_held_by_another_program_is_a_clear_error(upstream):
    port = upstream.server_address[1]

    with pytest.raises(ProxyError, match=f"cannot listen on 127.0.0.1:{port}"):
        FaultProxy(f"http://127.0.0.1:{port}", port=port).start()


@pytest.mark.parametrize(
    "raw", [b"NONSENSE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n"]
)
def test_a_malformed_request_gets_a_400_and_is_not_forwarded(proxy, upstream, raw):
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        answer = connection.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert received(upstream) == []


def test_an_upstream_that_breaks_off_its_answer_is_a_502_that_says_so():
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def half_answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")

        thread = threading.Thread(target=half_answer, daemon=True)
        thread.start()
        with FaultProxy(f"http://127.0.0.1:{listener.getsockname()[1]}") as proxy:
            response = httpx.get(proxy.url + "/")
        thread.join(5)

    assert response.status_code == 502
    assert "broke off its answer" in response.text


def test_a_request_cut_off_mid_body_is_not_forwarded(proxy, upstream):
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        connection.shutdown(socket.SHUT_WR)
        assert connection.recv(4096) == b""  # closed without an answer

    assert received(upstream) == [] and proxy.requests == []


def test_an_http_1_0_request_without_host_is_forwarded(proxy, upstream):
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 200 ")
    assert [(m, p) for m, p, _ in received(upstream)] == [("GET", "/old")]
