"""A minimal HTTP/1.1 keep-alive client on `asyncio.Protocol`, for load generation only.

Chosen by measurement: against a server that answers in exactly 50 ms at 10
connections, its p50 came 0.9 ms over, aiohttp's 1.5 ms and httpx's more (0.6 ms over
since answers are timed at the socket; benchmarks/perf_runner.py sets it beside wrk);
it also costs a fraction of aiohttp's CPU per request, which on two cores decides
whether the generator or the service sets the figures. It speaks just what a load test
needs: one request at a time per connection, bodies by Content-Length or chunked.
The test packages keep using httpx.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit


class LoadClientError(Exception):
    """The request got no complete HTTP answer: refused, reset, malformed or timed out."""


@dataclass(frozen=True)
class Answer:
    """An answer, with when its request went to the socket and when its last bytes came.

    Timed at the socket so that neither the building of the next request nor the other
    answers of the same loop turn count in the latency.
    """

    status: int
    body: bytes
    sent: float
    received: float


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `pending` is the answer the current request waits for."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: asyncio.Future[Answer] | None = None
        self.expiry: asyncio.TimerHandle | None = None
        self.sent = 0.0
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's: not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.reusable = False
        self._fail(f"connection closed before the answer: {exc or 'by the server'}")

    def data_received(self, data: bytes) -> None:
        received = time.perf_counter()
        self.buffer += data
        if self.pending is None or self.pending.done():
            return
        try:
            answer = self._parse(received)
        except (ValueError, IndexError) as exc:
            self.reusable = False
            self._fail(f"malformed answer: {exc}")
            return
        if answer is not None:
            self._settled().set_result(answer)

    def send(self, request: bytes, timeout: float) -> asyncio.Future[Answer]:
        """Write `request`; the future of its answer, failed if none came within `timeout`
        seconds (one timer on the loop, cheaper per request than a timeout scope)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.pending = loop.create_future()
        self.sent = time.perf_counter()
        self.transport.write(request)
        self.expiry = loop.call_later(timeout, self._expire, timeout)
        return self.pending

    def _expire(self, timeout: float) -> None:
        self.reusable = False  # a late answer would be taken for the next request's
        self._fail(f"no answer within {timeout:g} s")

    def _fail(self, problem: str) -> None:
        if self.pending is not None and not self.pending.done():
            self._settled().set_exception(LoadClientError(problem))

    def _settled(self) -> asyncio.Future[Answer]:
        """The pending future, about to be settled: its timer is no longer needed."""
        assert self.pending is not None
        if self.expiry is not None:
            self.expiry.cancel()
        return self.pending

    def _parse(self, received: float) -> Answer | None:
        """The complete answer at the buffer's start (removed from it), or None if partial."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).lower()  # only three of its fields matter here
        status = int(head.split(b"\r\n", 1)[0].split(b" ", 2)[1])
        start = end + 4
        if _field(head, b"transfer-encoding") == b"chunked":
            parsed = _chunked(self.buffer, start)
            if parsed is None:
                return None
            body, consumed = parsed
        else:
            length = int(_field(head, b"content-length") or b"0")
            if len(self.buffer) < start + length:
                return None
            body, consumed = bytes(self.buffer[start : start + length]), start + length
        del self.buffer[:consumed]
        if _field(head, b"connection") == b"close":
            self.reusable = False
        return Answer(status, body, self.sent, received)


def _field(head: bytes, name: bytes) -> bytes | None:
    """The value of the header field `name` in a lower-cased answer head, or None."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


def _chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """A chunked body from `start`: (body, end offset), or None when not all here yet."""
    body = bytearray()
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", position)
            while trailer_end > position:  # skip trailer fields up to the empty line
                position = trailer_end + 2
                trailer_end = buffer.find(b"\r\n", position)
            return (bytes(body), trailer_end + 2) if trailer_end >= 0 else None
        if len(buffer) < position + size + 2:
            return None
        body += buffer[position : position + size]
        position += size + 2


@functools.lru_cache(maxsize=4096)
def _request_head(method: str, url: str) -> tuple[tuple[str, int], bytes]:
    """The address `url` is at and a request's head up to its body fields, read from the
    URL once (a load test sends the same few URLs over and over)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise LoadClientError(f"{url}: only http:// URLs are supported")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = f"{method} {target or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    return (parts.hostname, parts.port or 80), head.encode("latin-1")


class LoadClient:
    """Keep-alive connections to any number of hosts, at most `limit` requests in flight."""

    def __init__(self, limit: int, timeout: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._timeout = timeout
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()

    async def request(self, method: str, url: str, body: bytes | None = None) -> Answer:
        """Send one request and read its whole answer; LoadClientError when none came."""
        address, head = _request_head(method, url)
        if body is None:
            request = head + b"\r\n"
        else:
            length = b"Content-Length: %d\r\n\r\n" % len(body)
            request = head + b"Content-Type: application/json\r\n" + length + body
        async with self._slots:
            connection = await self._connection(address)
            try:
                answer = await connection.send(request, self._timeout)
            finally:
                self._release(address, connection)
        return answer

    async def _connection(self, address: tuple[str, int]) -> _Connection:
        idle = self._idle.setdefault(address, [])
        while idle:
            connection = idle.pop()
            if connection.reusable and connection.transport is not None:
                return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                _, connection = await loop.create_connection(_Connection, *address)
        except (OSError, TimeoutError) as exc:
            raise LoadClientError(f"cannot connect to {address[0]}:{address[1]}: {exc}") from None
        self._open.add(connection)
        return connection

    def _release(self, address: tuple[str, int], connection: _Connection) -> None:
        if connection.reusable and connection.transport is not None:
            self._idle[address].append(connection)
        else:
            self._close(connection)

    def _close(self, connection: _Connection) -> None:
        self._open.discard(connection)
        if connection.transport is not None:
            connection.transport.close()

    async def close(self) -> None:
        for connection in list(self._open):
            self._close(connection)
        self._idle.clear()
        await asyncio.sleep(0)
