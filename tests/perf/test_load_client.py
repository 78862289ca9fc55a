"""The load client against a real socket server answering with crafted bytes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from harness.perf._load_client import LoadClient, LoadClientError


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes], str]]:
    """`raw_server(answer)`: a URL whose server reads a request and sends `answer` bytes
    (then keeps the connection open for the next request, unless told to close)."""
    sockets: list[socket.socket] = []

    def start(answer: bytes, close_after: bool = False) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve(connection: socket.socket) -> None:
            with connection:
                while connection.recv(65536):
                    connection.sendall(answer)
                    if close_after:
                        break

        accept_each(listener, serve)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    yield start
    for listener in sockets:
        listener.close()


def accept_each(listener: socket.socket, serve: Callable[[socket.socket], None]) -> None:
    """Hand each connection `listener` accepts to `serve`, in a thread, until it is closed."""

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            serve(connection)

    threading.Thread(target=accept, daemon=True).start()


def send(url: str, times: int = 1, timeout: float = 2.0):
    async def run():
        client = LoadClient(limit=1, timeout=timeout)
        try:
            return [await client.request("GET", url) for _ in range(times)]
        finally:
            await client.close()

    return asyncio.run(run())


def test_content_length_bodies_over_one_kept_alive_connection(raw_server):
    url = raw_server(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello")

    answers = send(url, times=3)

    assert [(a.status, a.body) for a in answers] == [(201, b"hello")] * 3


def test_chunked_bodies_with_extensions_and_trailers(raw_server):
    url = raw_server(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n"
    )

    answers = send(url, times=2)

    assert [a.body for a in answers] == [b"Wikipedia"] * 2


def test_a_connection_the_server_closes_is_replaced(raw_server):
    url = raw_server(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", close_after=True
    )

    answers = send(url, times=3)

    assert [a.status for a in answers] == [200] * 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection closed before"),
        (b"garbage\r\n\r\n", "malformed answer"),
    ],
)
def test_broken_answers_are_errors_not_hangs(raw_server, answer, message):
    url = raw_server(answer, close_after=True)

    with pytest.raises(LoadClientError, match=message):
        send(url)


def test_no_answer_within_the_timeout_is_an_error(raw_server):
    url = raw_server(b"")

    with pytest.raises(LoadClientError, match=r"no answer within 0\.3 s"):
        send(url, timeout=0.3)


def test_a_refused_connection_names_the_address():
    with pytest.raises(LoadClientError, match=r"cannot connect to 127\.0\.0\.1:9"):
        send("http://127.0.0.1:9/")


def test_only_http_urls_are_accepted():
    with pytest.raises(LoadClientError, match="only http:// URLs"):
        send("https://127.0.0.1/")


def test_an_answer_that_comes_after_the_timeout_is_not_taken_for_the_next_request():
    release = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = itertools.count()

    def answer(connection: socket.socket, body: bytes) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        with connection, contextlib.suppress(OSError):  # the client may have hung up
            while connection.recv(65536):
                connection.sendall(head + body)

    def serve(connection: socket.socket) -> None:
        if next(accepted) == 0:  # the first connection answers only once the test says
            release.wait(30)
            body = b"late"
        else:
            body = b"fresh"
        threading.Thread(target=answer, args=(connection, body), daemon=True).start()

    async def run() -> bytes:
        client = LoadClient(limit=1, timeout=0.2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        try:
            with pytest.raises(LoadClientError, match=r"no answer within 0\.2 s"):
                await client.request("GET", url)
            release.set()  # the late answer goes out on the first connection now
            return (await client.request("GET", url)).body
        finally:
            await client.close()

    accept_each(listener, serve)
    try:
        assert asyncio.run(run()) == b"fresh"
    finally:
        release.set()
        listener.close()
