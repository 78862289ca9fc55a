"""A reference HTTP server that answers every request after a fixed delay.

The instrument's self-check: a load generator pointed at it must report the delay it
was set to. It is plain asyncio with no framework, so its own cost is microseconds:
`python -m harness.testing.delay_server --port 8199 --delay-ms 50`. With `--stall-every 1
--stall-ms 200` it also freezes for 200 ms every second: a server whose queueing a closed
loop hides and an open-model run must show (coordinated omission). With `--leak-kb 37`
it keeps 37 KiB per request for good: a leak the memory trend must find. With
`--slow-after 100 --slow-ms 200` it answers after 200 ms from its 101st request on, for
good: a service that never recovers from a load, which a stress ramp's recovery must find.

Its framing is hand-written by measurement: with h11 it spent 2.5 times the CPU per
request (84 against 36 µs), served 0.65 times the requests per second at 0 ms and
answered 0.38 ms later at 50 ms (benchmarks/delay_server.py, medians of 5 pairs). It
reads what a load generator sends: a request line, headers, a Content-Length body.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from typing import ClassVar

# The loop's timers fire up to a millisecond late (epoll rounds its timeout up to whole
# ms), so the answer is scheduled this much early and the rest is waited out exactly.
_TIMER_SLACK = 0.0015
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n"
    b"connection: keep-alive\r\n\r\nok"
)
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 72\r\n"
    b"connection: close\r\n\r\n"
    b"delay server: not a request it can frame (bodies by Content-Length only)"
)
_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP/1\.[01]")


class DelayedAnswers(asyncio.Protocol):
    """HTTP/1.1 with keep-alive: each request is answered `delay` seconds after it arrived;
    one it cannot frame gets a 400 and the connection closes."""

    kept: ClassVar[list[bytes]] = []  # what `--leak-kb` keeps, for good
    served: ClassVar[int] = 0  # requests framed, over every connection

    def __init__(
        self, delay: float, leak: int = 0, slow_after: int = 0, slow_delay: float = 0
    ) -> None:
        self.delay = delay
        self.leak = leak
        self.slow_after = slow_after
        self.slow_delay = slow_delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            try:
                length = _content_length(self.buffer[:end])
            except ValueError:
                self._refuse()
                return
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            if self.leak:
                self.kept.append(b"\x01" * self.leak)
            DelayedAnswers.served += 1
            delay = self._delay()
            due = time.perf_counter() + delay
            loop.call_later(max(delay - _TIMER_SLACK, 0), self._answer, due)

    def _delay(self) -> float:
        if self.slow_after and DelayedAnswers.served > self.slow_after:
            return self.slow_delay
        return self.delay

    def _answer(self, due: float) -> None:
        while time.perf_counter() < due:
            pass
        if self.transport is not None:
            self.transport.write(_RESPONSE)

    def _refuse(self) -> None:
        self.buffer = b""
        if self.transport is not None:
            self.transport.write(_BAD_REQUEST)
            self.transport.close()
            self.transport = None  # the answers still due are dropped


def _content_length(head: bytes) -> int:
    """The length of the request's body; ValueError for a head this server cannot frame."""
    request_line, *lines = head.split(b"\r\n")
    if not _REQUEST_LINE.fullmatch(request_line):
        raise ValueError("not a request line")
    length = 0
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length" and value.strip().isdigit():
            length = int(value)
        elif name in (b"content-length", b"transfer-encoding"):
            raise ValueError(line)
    return length


def _stall_periodically(loop: asyncio.AbstractEventLoop, every: float, length: float) -> None:
    """Block the whole loop for `length` seconds, every `every` seconds."""

    def stall() -> None:
        time.sleep(length)
        loop.call_later(every, stall)

    loop.call_later(every, stall)


async def serve(
    port: int,
    delay: float,
    stall_every: float = 0,
    stall: float = 0,
    leak: int = 0,
    slow_after: int = 0,
    slow_delay: float = 0,
) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: DelayedAnswers(delay, leak, slow_after, slow_delay), "127.0.0.1", port
    )
    if stall_every and stall:
        _stall_periodically(loop, stall_every, stall)
    print(f"listening on 127.0.0.1:{port}, answering after {delay * 1000:g} ms", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--stall-every", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--stall-ms", type=float, default=0.0)
    parser.add_argument("--leak-kb", type=int, default=0, help="KiB kept per request")
    parser.add_argument("--slow-after", type=int, default=0, metavar="REQUESTS")
    parser.add_argument("--slow-ms", type=float, default=0.0, help="the delay after that")
    arguments = parser.parse_args()
    asyncio.run(
        serve(
            arguments.port,
            arguments.delay_ms / 1000,
            arguments.stall_every,
            arguments.stall_ms / 1000,
            arguments.leak_kb * 1024,
            arguments.slow_after,
            arguments.slow_ms / 1000,
        )
    )


if __name__ == "__main__":
    main()
