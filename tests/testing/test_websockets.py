"""WebSocket subscriptions (harness.testing.ServiceStreams) against a real server on a real
socket: messages checked against the stream contract, the server's close seen."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from harness.contracts import StreamValidator
from harness.exceptions import ContractViolation
from harness.testing import ServiceStreams
from tests.conftest import patience
from tests.contracts.test_streams import _document


@pytest.fixture
def server() -> Iterator[str]:
    """Sends a conforming message, then one whose title is a number, then closes with 4000."""

    def handler(connection: ServerConnection) -> None:
        connection.send(json.dumps({"seq": 1, "type": "saved", "title": "A"}))
        connection.send(json.dumps({"seq": 2, "type": "saved", "title": 2}))
        connection.close(4000, "done")

    with serve(handler, "127.0.0.1", 0) as running:
        thread = threading.Thread(target=running.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{running.socket.getsockname()[1]}"
        running.shutdown()


def test_received_messages_are_checked_and_the_close_is_seen(server):
    streams = ServiceStreams({"api": server}, {"api": StreamValidator(_document(), "api")})
    events = streams.subscribe("api", "/items/7/events")

    assert events.receive(patience(10))["seq"] == 1
    with pytest.raises(ContractViolation, match=r"message\.title: 2 is not of type 'string'"):
        events.receive(patience(10))
    assert events.wait_closed(patience(10)) == (4000, "done")
    streams.close()


def test_an_unknown_service_is_named():
    with pytest.raises(KeyError, match="no service 'nope'"):
        ServiceStreams({}, {}).subscribe("nope", "/x")
