"""A reference HTTP server that answers every request after a fixed delay.

The instrument's self-check: a load generator pointed at it must report the delay it
was set to. It is plain asyncio and h11 with no framework, so its own cost is microseconds:
`python -m harness.testing.delay_server --port 8199 --delay-ms 50`. With `--stall-every 1
--stall-ms 200` it also freezes for 200 ms every second: a server whose queueing a closed
loop hides and an open-model run must show (coordinated omission).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import h11

# The loop's timers fire up to a millisecond late (epoll rounds its timeout up to whole
# ms), so the answer is scheduled this much early and the rest is waited out exactly.
_TIMER_SLACK = 0.0015
_OK = h11.Response(
    status_code=200, reason=b"OK", headers=[("content-type", "text/plain"), ("content-length", "2")]
)
_BODY = h11.Data(data=b"ok")
_BAD = h11.Response(
    status_code=400,
    reason=b"Bad Request",
    headers=[("content-length", "0"), ("connection", "close")],
)


class DelayedAnswers(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, framed by h11: each request is answered `delay` seconds
    after its last byte arrived; one h11 cannot read gets a 400 and the connection closes.

    A pipelined request is read once the one before it is answered, so its delay counts
    from then: load generators send one request at a time per connection.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.http = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.http.receive_data(data)
        self._read()

    def _read(self) -> None:
        """Schedule the answer to the request once it is whole; the rest waits in h11."""
        while True:
            try:
                event = self.http.next_event()
            except h11.RemoteProtocolError:
                self._send(_BAD)
                return
            if isinstance(event, h11.EndOfMessage):
                due = time.perf_counter() + self.delay
                loop = asyncio.get_running_loop()
                loop.call_later(max(self.delay - _TIMER_SLACK, 0), self._answer, due)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return  # PAUSED: a pipelined request, read after this answer

    def _answer(self, due: float) -> None:
        while time.perf_counter() < due:
            pass
        if self._send(_OK, _BODY) and self.http.our_state is h11.DONE:
            self.http.start_next_cycle()
            self._read()

    def _send(self, response: h11.Response, *body: h11.Data) -> bool:
        """Write one whole answer; close after it when h11 says so. False if gone."""
        if self.transport is None:
            return False
        events = (response, *body, h11.EndOfMessage())
        self.transport.write(b"".join(self.http.send(event) or b"" for event in events))
        if self.http.our_state is h11.MUST_CLOSE:
            self.transport.close()
            return False
        return True


def _stall_periodically(loop: asyncio.AbstractEventLoop, every: float, length: float) -> None:
    """Block the whole loop for `length` seconds, every `every` seconds."""

    def stall() -> None:
        time.sleep(length)
        loop.call_later(every, stall)

    loop.call_later(every, stall)


async def serve(port: int, delay: float, stall_every: float = 0, stall: float = 0) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: DelayedAnswers(delay), "127.0.0.1", port)
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
    arguments = parser.parse_args()
    asyncio.run(
        serve(
            arguments.port,
            arguments.delay_ms / 1000,
            arguments.stall_every,
            arguments.stall_ms / 1000,
        )
    )


if __name__ == "__main__":
    main()
