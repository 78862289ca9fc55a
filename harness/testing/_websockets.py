"""WebSocket clients of a live stack's streams, every message checked against the service's
stream contract (`harness.contracts.StreamValidator`), as `service_clients` checks responses.

`ServiceStreams(urls, validators).subscribe("records", "/cases/7/events")` opens one
connection (the `websockets` library's synchronous client); `Subscription.receive()` gives
the next message, parsed and checked; `wait_closed()` reads on until the server closes and
gives its close code and reason. `subscribe(..., stalled=True)` is a subscriber that has
stopped reading, to show what the server does when one falls behind.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from harness.exceptions import HarnessError

if TYPE_CHECKING:
    from harness.contracts import StreamValidator

OPEN_TIMEOUT = 10.0
STALLED_RECEIVE_BUFFER = 4096  # bytes: the kernel's smallest, so the server's side fills


@dataclass
class Subscription:
    """One WebSocket connection to a service's stream at `path`."""

    connection: ClientConnection
    path: str
    validator: StreamValidator | None
    received: list[Any] = field(default_factory=list)

    def receive(self, timeout: float | None = None) -> Any:
        """The next message, parsed and checked against the contract; TimeoutError when none
        comes in `timeout` seconds, ConnectionClosed when the server closed the socket."""
        message = json.loads(self.connection.recv(timeout=timeout))
        if self.validator is not None:
            self.validator.check(self.path, message)
        self.received.append(message)
        return message

    def wait_closed(self, timeout: float | None = None) -> tuple[int | None, str]:
        """Receive (and check) messages until the server closes: its close code and reason.
        TimeoutError when neither a message nor the close comes within `timeout` seconds."""
        while True:
            try:
                self.receive(timeout)
            except ConnectionClosed as closed:
                frame = closed.rcvd
                return (frame.code, frame.reason) if frame is not None else (None, "")

    def close(self) -> None:
        self.connection.close()


class ServiceStreams:
    """Subscriptions to the services' streams, by service name; all closed by `close()`."""

    def __init__(self, urls: dict[str, str], validators: dict[str, StreamValidator]) -> None:
        self._urls = urls
        self._validators = validators
        self._open: list[Subscription] = []

    def subscribe(
        self,
        service: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        url: str | None = None,
        stalled: bool = False,
    ) -> Subscription:
        """A connection to `path` of `service` (at `url` instead of the stack's, e.g. another
        instance of it). The handshake is done when this returns. The client reads every
        message as it arrives (kept until `receive()`), so to the server it is a fast
        subscriber whenever the test looks.

        `stalled=True`: a subscriber that reads nothing until `receive()` is called, with no
        read-ahead, the smallest kernel receive buffer and no compression (deflate would let
        megabytes of alike messages fit in the kernel's buffers), so what the server sends
        piles up on the server's side as it would for a client that stopped reading."""
        if service not in self._urls:
            raise KeyError(f"no service {service!r} in the stack; services: {sorted(self._urls)}")
        base = urlsplit(url or self._urls[service])
        scheme = "wss" if base.scheme == "https" else "ws"
        uri = f"{scheme}://{base.netloc}{base.path.rstrip('/')}{path}"
        if params:
            uri += "?" + urlencode(params)
        options: dict[str, Any] = {"max_queue": None}
        try:
            if stalled:
                options = {
                    "sock": _small_buffered_socket(base.hostname, base.port),
                    "max_queue": (1, 0),
                    "compression": None,
                }
            connection = connect(
                uri,
                proxy=None,
                legacy=True,  # a connection kept open across calls, closed by close()
                open_timeout=OPEN_TIMEOUT,
                **options,
            )
        except (OSError, InvalidHandshake) as exc:
            raise HarnessError(f"{service}: cannot open the WebSocket {uri}: {exc}") from None
        self._open.append(Subscription(connection, path, self._validators.get(service)))
        return self._open[-1]

    def close(self) -> None:
        for subscription in self._open:
            subscription.close()


def _small_buffered_socket(host: str | None, port: int | None) -> socket.socket:
    """A TCP connection to `host:port` whose receive buffer is STALLED_RECEIVE_BUFFER (set
    before connecting, so the window the server sees is small from the first byte)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RECEIVE_BUFFER)
    sock.settimeout(OPEN_TIMEOUT)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    sock.settimeout(None)
    return sock
