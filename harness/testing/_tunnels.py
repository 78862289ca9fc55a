"""A connection the fault proxy no longer reads as HTTP: after a `101 Switching Protocols`
(a WebSocket), bytes are relayed both ways unchanged until either side closes, or until
the proxy cuts it as a failing network would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from harness.testing._http1 import READ_SIZE, reset


@dataclass(eq=False)
class Tunnel:
    """The client's and the upstream's side of one upgraded connection."""

    client: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]

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
            asyncio.create_task(_pipe(client_reader, upstream_writer)),
            asyncio.create_task(_pipe(upstream_reader, client_writer)),
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


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until `reader` ends, then end `writer`'s direction (a half-close) the same way."""
    while data := await reader.read(READ_SIZE):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()
