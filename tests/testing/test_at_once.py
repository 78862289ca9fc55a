"""send_at_once: N requests in flight together, every answer collected in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.exceptions import HarnessError
from harness.infra._ports import unbound_port
from harness.testing._at_once import MAX_CALLS, Call, send_at_once

N = 20
# Only a broken sender waits this long: the barrier fills as soon as all N are in flight.
NEVER = 60.0


@pytest.fixture
def all_in_flight() -> Iterator[str]:
    """A server answering 200 only once N requests are inside it together (409 if they
    never are), echoing each request's path and body."""
    inside = threading.Barrier(N, timeout=NEVER)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                inside.wait()
                status = 200
            except threading.BrokenBarrierError:
                status = 409
            answer = json.dumps({"path": self.path, "body": json.loads(body)}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 4 * N  # the default backlog of 5 drops a burst's connections

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_call_is_in_flight_at_once_and_answers_come_back_in_order(all_in_flight):
    calls = [Call("POST", f"/items/{n}", json={"n": n}) for n in range(N)]

    responses = send_at_once(all_in_flight, calls)

    assert [r.status_code for r in responses] == [200] * N
    assert [r.json() for r in responses] == [
        {"path": f"/items/{n}", "body": {"n": n}} for n in range(N)
    ]


def test_response_hooks_see_every_answer(all_in_flight):
    seen: list[int] = []

    send_at_once(
        all_in_flight,
        [Call("POST", "/items", json={})] * N,
        response_hooks=[lambda response: seen.append(response.status_code)],
    )

    assert seen == [200] * N


def test_a_call_without_an_answer_names_it():
    url = f"http://127.0.0.1:{unbound_port()}"

    with pytest.raises(HarnessError, match=rf"POST {url}/items got no answer: ConnectError"):
        send_at_once(url, [Call("POST", "/items", json={})] * 2)


@pytest.mark.parametrize("count", [0, MAX_CALLS + 1])
def test_a_burst_of_none_or_too_many_is_one_line_saying_the_range(count):
    with pytest.raises(HarnessError) as raised:
        send_at_once("http://127.0.0.1:1", [Call("GET", "/")] * count)

    assert str(raised.value) == (
        f"send_at_once: {count} calls; give 1 to {MAX_CALLS} (split a larger burst)"
    )
