"""The fault proxy in front of a real local WebSocket server (the `websockets` library's),
over real sockets: handshakes take faults like requests, upgraded connections are relayed,
held by `delay_websockets()`, until `drop_websockets()` cuts them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve

from harness.testing._faults import FaultProxy

HANG = 30.0  # a deadline against a hang, never a measure


class EchoServer:
    """Echoes every message; `ended` is set for each connection whose handler returned."""

    def __init__(self) -> None:
        self.opened = 0
        self.ended = threading.Semaphore(0)
        self.server: Server = serve(self._echo, "127.0.0.1", 0)

    def _echo(self, connection: ServerConnection) -> None:
        self.opened += 1
        try:
            for message in connection:
                connection.send(message)
        finally:
            self.ended.release()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.socket.getsockname()[1]}"


@pytest.fixture
def upstream() -> Iterator[EchoServer]:
    echo = EchoServer()
    thread = threading.Thread(target=echo.server.serve_forever, daemon=True)
    thread.start()
    yield echo
    echo.server.shutdown()
    thread.join(HANG)


@pytest.fixture
def proxy(upstream: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url) as proxy:
        yield proxy


def _open(proxy: FaultProxy) -> ClientConnection:
    url = proxy.url.replace("http", "ws", 1) + "/echo"
    return connect(url, proxy=None, open_timeout=HANG, legacy=True)


def test_an_upgraded_connection_is_relayed_both_ways_until_closed(proxy, upstream):
    with _open(proxy) as client:
        client.send("one")
        client.send(b"\x00two")
        assert (client.recv(HANG), client.recv(HANG)) == ("one", b"\x00two")

    assert upstream.ended.acquire(timeout=HANG)  # the close went through to the server
    assert [(r.method, r.path, r.fault) for r in proxy.requests] == [("GET", "/echo", "forwarded")]


def test_drop_websockets_cuts_open_connections_as_a_network_failure_would(proxy, upstream):
    client = _open(proxy)
    client.send("before")
    assert client.recv(HANG) == "before"

    assert proxy.drop_websockets() == 1

    with pytest.raises(ConnectionClosed) as closed:
        client.recv(HANG)
    assert closed.value.rcvd is None  # no close frame: the connection just went
    assert upstream.ended.acquire(timeout=HANG)  # and the server saw its client go
    with _open(proxy) as again:  # the proxy itself goes on
        again.send("after")
        assert again.recv(HANG) == "after"


def test_respond_refuses_the_handshake_without_reaching_the_server(proxy, upstream):
    proxy.respond(503, headers={"Retry-After": "1"}, body=b"busy")

    with pytest.raises(InvalidStatus) as refused:
        _open(proxy)

    assert refused.value.response.status_code == 503
    assert refused.value.response.headers["Retry-After"] == "1"
    assert upstream.opened == 0


def test_reset_breaks_the_switch_after_the_server_accepted_it(proxy, upstream):
    proxy.reset()

    with pytest.raises((InvalidMessage, ConnectionError, EOFError)):
        _open(proxy)

    assert upstream.ended.acquire(timeout=HANG)  # it had accepted, then lost its client
    assert upstream.opened == 1
    assert [r.fault for r in proxy.requests] == ["reset"]


def test_delay_websockets_holds_each_message_in_order_until_set_back_to_zero(proxy):
    with _open(proxy) as client:
        proxy.delay_websockets(0.2)
        sent = time.perf_counter()
        for number in range(3):
            client.send(f"m{number}")
        answers = [client.recv(HANG) for _ in range(3)]
        held = time.perf_counter() - sent
        proxy.delay_websockets(0)
        client.send("after")
        assert client.recv(HANG) == "after"

    assert answers == ["m0", "m1", "m2"]
    assert held >= 0.4  # held on the way there and on the way back: never sooner


def test_a_negative_websocket_delay_is_refused(proxy):
    with pytest.raises(ValueError, match="cannot be negative"):
        proxy.delay_websockets(-1)
