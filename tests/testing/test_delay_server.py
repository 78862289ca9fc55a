"""The delay server over real sockets: keep-alive, bodies, pipelining, malformed requests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from harness.testing.delay_server import DelayedAnswers


@pytest.fixture
def port() -> Iterator[int]:
    """A delay server answering after 10 ms, on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    protocols: list[DelayedAnswers] = []

    def answering() -> DelayedAnswers:
        protocols.append(DelayedAnswers(0.01))
        return protocols[-1]

    async def close() -> None:
        server.close()
        for protocol in protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        await asyncio.sleep(0.05)  # let each transport finish closing on this loop

    starting = loop.create_server(answering, "127.0.0.1", 0)
    server = asyncio.run_coroutine_threadsafe(starting, loop).result(5)
    yield server.sockets[0].getsockname()[1]
    asyncio.run_coroutine_threadsafe(close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def read_answers(connection: socket.socket, count: int) -> bytes:
    answers = b""
    while answers.count(b"HTTP/1.1 ") < count or not answers.endswith(b"ok"):
        chunk = connection.recv(4096)
        if not chunk:
            break
        answers += chunk
    return answers


def test_keeps_the_connection_alive_across_requests_and_bodies(port):
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        answers = [
            client.get("/a"),
            client.post("/b", content=b"x" * 5000),
            client.put("/c", content=b""),
            client.get("/d"),
        ]

    assert [(a.status_code, a.text) for a in answers] == [(200, "ok")] * 4
    assert len({a.extensions["network_stream"] for a in answers}) == 1


def test_a_pipelined_request_is_answered_after_the_one_before(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.sendall(b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")  # while /1 waits
        answers = read_answers(connection, 2)

    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ],
)
def test_a_malformed_request_gets_a_400_and_the_connection_closes(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(raw)
        answer = connection.recv(4096)
        closed = connection.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.endswith(
        b"delay server: not a request it can frame (bodies by Content-Length only)"
    )
    assert closed == b""
