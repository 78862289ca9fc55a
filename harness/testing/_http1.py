"""HTTP/1.1 on asyncio streams, framed by h11: read one whole message, write one answer,
break a connection. What the fault proxy (and its tunnels) and the stub server share."""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass
from http import HTTPStatus

import h11

MAX_HEAD = 64 * 1024
READ_SIZE = 64 * 1024


@dataclass
class Answer:
    """A response to frame: status, headers, body (and a reason phrase, None: the standard)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reason: bytes | None = None


async def read_message(
    reader: asyncio.StreamReader, connection: h11.Connection
) -> tuple[h11.Request | h11.Response | h11.InformationalResponse, bytes] | None:
    """The next whole message `connection` reads from `reader`: its head and body; None
    when the peer closed before one began. An informational answer (100 Continue) is
    passed over: the real one follows; a `101 Switching Protocols` ends HTTP there."""
    head: h11.Request | h11.Response | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(READ_SIZE))
        elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            return event, b""
        elif isinstance(event, h11.Request | h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            return head, bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None


def plain(status: int, text: str) -> Answer:
    """A text/plain answer."""
    return Answer(status, [("Content-Type", "text/plain")], text.encode())


def framed(client: h11.Connection, answer: Answer) -> bytes:
    """`answer` as bytes on the wire, framed by h11 for the client's request, on
    `Connection: close` unless its headers say otherwise."""
    headers = list(answer.headers)
    named = {name.lower() for name, _ in headers}
    if not named & {"content-length", "transfer-encoding"}:
        headers.append(("Content-Length", str(len(answer.body))))
    if "connection" not in named:
        headers.append(("Connection", "close"))
    reason = answer.reason if answer.reason is not None else _phrase(answer.status)
    wire = client.send(h11.Response(status_code=answer.status, headers=headers, reason=reason))
    if answer.body:
        wire = (wire or b"") + (client.send(h11.Data(data=answer.body)) or b"")
    return (wire or b"") + (client.send(h11.EndOfMessage()) or b"")


def _phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def reset(writer: asyncio.StreamWriter) -> None:
    """End the connection with a reset (RST, not FIN): what was buffered is discarded."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
