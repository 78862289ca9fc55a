"""A fault-injecting HTTP proxy to put between two services.

    with FaultProxy("http://127.0.0.1:8101") as proxy:   # in front of records
        proxy.respond(503, headers={"Retry-After": "0"}, times=2)
        ...                                               # point a client at proxy.url
        assert [r.fault for r in proxy.requests] == ["503", "503", "forwarded"]

Faults queue up and each applies to the next requests that reach the proxy: `delay` adds
latency before forwarding, `respond` answers in the upstream's place, `reset` forwards
the request and then breaks the connection in the middle of the answer (so the upstream
did the work and the client never learns it). `refuse` closes the listening socket, so
connections are refused by the kernel, until `accept` (or for a number of seconds).
Every request is forwarded on a connection of its own and answered with
`Connection: close`, so one connection carries one request and the log is exact.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

from harness.exceptions import HarnessError

HOST = "127.0.0.1"
UPSTREAM_TIMEOUT = 60.0
START_TIMEOUT = 5.0


class ProxyError(HarnessError):
    """The proxy could not start, or could not take its port back after `refuse`."""


@dataclass
class _Fault:
    kind: Literal["delay", "respond", "reset"]
    times: int
    seconds: float = 0.0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def label(self) -> str:
        if self.kind == "delay":
            return f"delayed {self.seconds:g}s"
        return str(self.status) if self.kind == "respond" else "reset"


@dataclass(frozen=True)
class ProxiedRequest:
    """One request the proxy saw, and what it did: 'forwarded', 'delayed 2s', '503', 'reset'."""

    method: str
    path: str
    fault: str


@dataclass
class _Request:
    method: str
    path: str
    head: bytes  # request line and headers, `Connection: close` already set
    body: bytes


class FaultProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 in front of `upstream`, with faults on demand.

    It runs its own event loop in a thread, so tests drive it from ordinary code.
    """

    def __init__(self, upstream: str, port: int = 0) -> None:
        target = urlsplit(upstream)
        if target.scheme != "http" or not target.hostname or not target.port:
            raise ProxyError(f"upstream {upstream!r}: expected http://HOST:PORT")
        self.upstream = (target.hostname, target.port)
        self._port = port
        self._faults: deque[_Fault] = deque()
        self._log: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        try:
            self._call(self._listen())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop listening, drop open connections, end the loop's thread."""
        if not self._thread.is_alive():
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}"

    # -- faults -------------------------------------------------------------------------

    def delay(self, seconds: float, times: int = 1) -> None:
        """Hold each of the next `times` requests for `seconds` before forwarding it."""
        self._add(_Fault("delay", times, seconds=seconds))

    def respond(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with `status` instead of forwarding them."""
        self._add(_Fault("respond", times, status=status, headers=headers or {}, body=body))

    def reset(self, times: int = 1) -> None:
        """Forward the next `times` requests, then break each connection mid-answer."""
        self._add(_Fault("reset", times))

    def refuse(self, seconds: float | None = None) -> None:
        """Stop listening: connections are refused until `accept()`, or for `seconds`."""
        self._call(self._stop_listening())
        if seconds is not None:
            self._loop.call_soon_threadsafe(
                self._loop.call_later, seconds, lambda: self._loop.create_task(self._listen())
            )

    def accept(self) -> None:
        """Listen again on the same port after `refuse()`."""
        self._call(self._listen())

    def clear(self) -> None:
        """Drop the faults not yet used up: every next request is forwarded."""
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[ProxiedRequest]:
        """Every request seen so far, in order."""
        with self._lock:
            return list(self._log)

    def _add(self, fault: _Fault) -> None:
        if fault.times < 1:
            raise ValueError(f"times={fault.times}: a fault applies to at least one request")
        with self._lock:
            self._faults.append(fault)

    def _next_fault(self, request: _Request) -> _Fault | None:
        with self._lock:
            fault = self._faults[0] if self._faults else None
            if fault is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.popleft()
            self._log.append(
                ProxiedRequest(request.method, request.path, fault.label if fault else "forwarded")
            )
        return fault

    # -- the event loop's side ----------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(START_TIMEOUT)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._serve, HOST, self._port, reuse_address=True
            )
        except OSError as exc:
            raise ProxyError(
                f"fault proxy cannot listen on {HOST}:{self._port}: {exc.strerror}"
            ) from None
        self._port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _close(self) -> None:
        """Stop listening and end every connection still open."""
        await self._stop_listening()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            fault = self._next_fault(request)
            if fault is not None and fault.kind == "respond":
                writer.write(_response(fault.status, fault.headers, fault.body))
            else:
                if fault is not None and fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                answer = await self._forward(request)
                if fault is not None and fault.kind == "reset":
                    await _break_mid_answer(writer, answer)
                    return
                writer.write(answer)
            await writer.drain()
        except ValueError:
            writer.write(_response(400, {}, b"fault proxy: not an HTTP/1.1 request"))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            self._connections.discard(task)

    async def _forward(self, request: _Request) -> bytes:
        """The upstream's whole answer, or a 502 saying why there is none."""
        try:
            reader, writer = await asyncio.open_connection(*self.upstream)
        except OSError as exc:
            detail = f"fault proxy: upstream {self.upstream[0]}:{self.upstream[1]}: {exc.strerror}"
            return _response(502, {"Content-Type": "text/plain"}, detail.encode())
        try:
            writer.write(request.head + request.body)
            await writer.drain()
            return await asyncio.wait_for(reader.read(), UPSTREAM_TIMEOUT)
        except TimeoutError:
            detail = f"fault proxy: upstream gave no whole answer in {UPSTREAM_TIMEOUT:g}s"
            return _response(504, {"Content-Type": "text/plain"}, detail.encode())
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """One request: its head (rewritten to `Connection: close`) and its body; None at EOF.

    Heads are limited by the reader's limit (64 KiB): a longer one ends the connection.
    ValueError for a request line or framing header that cannot be read.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # closed before a whole request head arrived
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = [line for line in lines[1:] if line]
    names = {line.split(":", 1)[0].strip().lower(): line for line in headers}
    if "transfer-encoding" in names:
        body = await _read_chunked(reader)
    else:
        length = int(names.get("content-length", "content-length: 0").split(":", 1)[1])
        body = await reader.readexactly(length)
    kept = [line for line in headers if not line.lower().startswith(("connection:", "keep-alive:"))]
    rewritten = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
    return _Request(method, path, rewritten, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, kept chunked (the head still says so), up to its last chunk."""
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        body += size_line + await reader.readexactly(size + 2)
        if size == 0:
            return body


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


async def _break_mid_answer(writer: asyncio.StreamWriter, answer: bytes) -> None:
    """Send the first half of the answer, then reset the connection (RST, not FIN)."""
    writer.write(answer[: max(1, len(answer) // 2)])
    await writer.drain()
    await asyncio.sleep(0.01)  # let the half leave before the reset discards the buffer
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
