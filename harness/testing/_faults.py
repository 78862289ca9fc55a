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
`Connection: close`, so one connection carries one request and the log is exact. h11 does
the HTTP/1.1 framing both ways; a request it cannot read gets a 400 and is not forwarded.

A WebSocket handshake (an `Upgrade` request) takes the next fault like any request
(`respond` refuses it, `delay` holds it, `reset` breaks the `101` answer); once upgraded,
the connection is relayed unchanged, each message held `delay_websockets(seconds)` when
that is set, until `drop_websockets()` cuts it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import h11

from harness.exceptions import HarnessError
from harness.testing._http1 import MAX_HEAD, Answer, framed, plain, read_message, reset
from harness.testing._tunnels import Tunnel

HOST = "127.0.0.1"
UPSTREAM_TIMEOUT = 60.0
START_TIMEOUT = 5.0
_HOP = {b"connection", b"keep-alive"}
_T = TypeVar("_T")


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
    head: h11.Request
    body: bytes


@dataclass(kw_only=True)
class _Switched(Answer):
    """A `101` answer: the upstream's connection, kept open, and what it sent after the 101."""

    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    early: bytes = b""


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
        self._tunnels: set[Tunnel] = set()
        self._websocket_lag = 0.0  # seconds; set from the test's thread, read by the loop's

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

    def delay_websockets(self, seconds: float) -> None:
        """Pass on every message of the upgraded (WebSocket) connections, open now or later,
        `seconds` after it arrived, both ways and in order, as a slow network would;
        `delay_websockets(0)` ends it."""
        if seconds < 0:
            raise ValueError(f"seconds={seconds}: a delay cannot be negative")
        self._websocket_lag = seconds

    def drop_websockets(self) -> int:
        """Cut every upgraded (WebSocket) connection open now, as a network failure would:
        the client's is reset, the upstream's closed. How many were cut."""
        return self._call(self._drop_tunnels())

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

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(START_TIMEOUT)

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

    async def _drop_tunnels(self) -> int:
        tunnels = list(self._tunnels)
        for tunnel in tunnels:
            tunnel.cut()
        return len(tunnels)

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
        client = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            request = await _read_request(reader, client)
            if request is None:
                return
            fault = self._next_fault(request)
            if fault is not None and fault.kind == "respond":
                answer = Answer(fault.status, list(fault.headers.items()), fault.body)
                writer.write(framed(client, answer))
            else:
                if fault is not None and fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                answer = await self._forward(request)
                if isinstance(answer, _Switched):
                    await self._tunnel(client, (reader, writer), answer, fault)
                    return
                wire = framed(client, answer)
                if fault is not None and fault.kind == "reset":
                    await _break_mid_answer(writer, wire)
                    return
                writer.write(wire)
            await writer.drain()
        except h11.RemoteProtocolError:
            answer = Answer(400, [], b"fault proxy: not an HTTP/1.1 request")
            writer.write(framed(client, answer))
        except ConnectionError:
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            self._connections.discard(task)

    async def _tunnel(
        self,
        client: h11.Connection,
        client_side: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        switched: _Switched,
        fault: _Fault | None,
    ) -> None:
        """Pass the upstream's `101` on and relay the connection, cut by `drop_websockets`."""
        head = h11.InformationalResponse(
            status_code=101, headers=switched.headers, reason=switched.reason or b""
        )
        wire = client.send(head) or b""
        if fault is not None and fault.kind == "reset":
            switched.upstream[1].close()
            await _break_mid_answer(client_side[1], wire)
            return
        client_side[1].write(wire)
        tunnel = Tunnel(client_side, switched.upstream, lambda: self._websocket_lag)
        self._tunnels.add(tunnel)
        try:
            await tunnel.relay(client.trailing_data[0], switched.early)
        finally:
            self._tunnels.discard(tunnel)

    async def _forward(self, request: _Request) -> Answer:
        """The upstream's whole answer, or a 502 or 504 saying why there is none. After a
        `101` the upstream's connection stays open, in the answer."""
        where = f"{self.upstream[0]}:{self.upstream[1]}"
        try:
            reader, writer = await asyncio.open_connection(*self.upstream)
        except OSError as exc:
            return plain(502, f"fault proxy: upstream {where}: {exc.strerror}")
        answer: Answer | None = None
        try:
            answer = await asyncio.wait_for(
                _exchange(reader, writer, request, where), UPSTREAM_TIMEOUT
            )
            return answer
        except TimeoutError:
            return plain(
                504, f"fault proxy: upstream gave no whole answer in {UPSTREAM_TIMEOUT:g}s"
            )
        except (h11.RemoteProtocolError, ConnectionError) as exc:
            return plain(502, f"fault proxy: upstream {where} broke off its answer ({exc})")
        finally:
            if not isinstance(answer, _Switched):
                writer.close()


async def _read_request(reader: asyncio.StreamReader, client: h11.Connection) -> _Request | None:
    """One request, its body whole; None if the client closed before sending one.

    h11 reads the framing: heads are limited to MAX_HEAD, and a request it cannot read
    (request line, framing headers, chunks, a head too long) is h11.RemoteProtocolError.
    """
    try:
        message = await read_message(reader, client)
    except h11.RemoteProtocolError:
        if reader.at_eof():
            return None  # closed in the middle of a request: nobody to answer
        raise
    if message is None:
        return None
    head, body = message
    assert isinstance(head, h11.Request)
    return _Request(head.method.decode(), head.target.decode(), head, body)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: _Request, where: str
) -> Answer:
    """Send `request` upstream on `Connection: close` (a handshake as it came), read its
    whole answer with h11."""
    upstream = h11.Connection(h11.CLIENT)
    upgrade = _is_upgrade(request.head)
    headers = request.head.headers.raw_items() if upgrade else _end_to_end(request.head)
    if not any(name.lower() == b"host" for name, _ in headers):  # an HTTP/1.0 request may lack one
        headers.append((b"host", where.encode()))
    outgoing = h11.Request(method=request.head.method, target=request.head.target, headers=headers)
    writer.write(upstream.send(outgoing) or b"")
    if request.body:
        writer.write(upstream.send(h11.Data(data=request.body)) or b"")
    writer.write(upstream.send(h11.EndOfMessage()) or b"")
    await writer.drain()
    message = await read_message(reader, upstream)
    if message is None:
        raise ConnectionError("closed before answering")
    response, body = message
    if isinstance(response, h11.InformationalResponse):  # 101: h11 allows it after an Upgrade only
        raw = [(n.decode(), v.decode("latin-1")) for n, v in response.headers.raw_items()]
        early = upstream.trailing_data[0]
        return _Switched(101, raw, b"", response.reason, upstream=(reader, writer), early=early)
    assert isinstance(response, h11.Response)
    kept = [(n.decode(), v.decode("latin-1")) for n, v in _end_to_end(response)]
    return Answer(response.status_code, kept, body, response.reason)


def _is_upgrade(request: h11.Request) -> bool:
    """A request to switch protocols (`Connection: Upgrade` with an `Upgrade` header)."""
    connection = b",".join(v for n, v in request.headers if n == b"connection").lower()
    return b"upgrade" in connection and any(n == b"upgrade" for n, _ in request.headers)


def _end_to_end(message: h11.Request | h11.Response) -> list[tuple[bytes, bytes]]:
    """The message's headers less the hop-by-hop ones, then `Connection: close`."""
    raw = message.headers.raw_items()
    kept = [(name, value) for name, value in raw if name.lower() not in _HOP]
    return [*kept, (b"Connection", b"close")]


async def _break_mid_answer(writer: asyncio.StreamWriter, answer: bytes) -> None:
    """Send the first half of the answer, then reset the connection (RST, not FIN)."""
    writer.write(answer[: max(1, len(answer) // 2)])
    await writer.drain()
    await asyncio.sleep(0.01)  # let the half leave before the reset discards the buffer
    reset(writer)
