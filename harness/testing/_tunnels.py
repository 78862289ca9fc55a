"""A connection the fault proxy no longer reads as HTTP: after a `101 Switching Protocols`
(a WebSocket), bytes are relayed both ways unchanged, each `lag()` seconds after it
arrived (0 unless the proxy delays WebSockets), until either side closes, or until the
proxy cuts it as a failing network would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from harness.testing._http1 import READ_SIZE, reset


def _no_lag() -> float:
    return 0.0


@dataclass(eq=False)
class Tunnel:
    """The client's and the upstream's side of one upgraded connection; `lag` says, when a
    chunk is passed on, how long after its arrival that may be."""

    client: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    lag: Callable[[], float] = _no_lag

    async def relay(self, to_upstream: bytes, to_client: bytes) -> None:
        """Send what each side sent early (read with the handshake), then relay both ways
        until both have closed; a side that breaks off ends the whole tunnel."""
        (client_reader, client_writer), (upstream_reader, upstream_writer) = (
            self.client,
            self.upstream,
        )
        upstream_writer.write(to_upstream)
        client_writer.write(to_client)
        pipes = {
            asyncio.create_task(_pipe(client_reader, upstream_writer, self.lag)),
            asyncio.create_task(_pipe(upstream_reader, client_writer, self.lag)),
        }
        try:
            await asyncio.gather(*pipes)
        except ConnectionError:
            pass  # one side reset: the tunnel is over
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            upstream_writer.close()

    def cut(self) -> None:
        """Reset the client's connection (RST, as a failing network would show it) and
        close the upstream's, so the server sees its subscriber go."""
        reset(self.client[1])
        self.upstream[1].transport.abort()


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lag: Callable[[], float]
) -> None:
    """Copy until `reader` ends, each chunk `lag()` seconds after it arrived (a burst keeps
    its spacing: the delay is latency, not a slower line), then end `writer`'s direction
    (a half-close) the same way."""
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[tuple[float, bytes | ConnectionError]] = asyncio.Queue()
    reading = asyncio.create_task(_read_into(reader, arrived))
    try:
        while True:
            at, data = await arrived.get()
            await asyncio.sleep(at + lag() - loop.time())
            if isinstance(data, ConnectionError):
                raise data
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        reading.cancel()
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()


async def _read_into(
    reader: asyncio.StreamReader, arrived: asyncio.Queue[tuple[float, bytes | ConnectionError]]
) -> None:
    """Each chunk `reader` gives, with when it came; b"" at its end, the error if it broke."""
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(READ_SIZE):
            arrived.put_nowait((loop.time(), data))
    except ConnectionError as exc:
        arrived.put_nowait((loop.time(), exc))
        return
    arrived.put_nowait((loop.time(), b""))
