"""services.common.service_client's retry policy, in-process: what is waited for and when."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import HTTPException

from services.common.service_client import RetryPolicy, ServiceClient

POLICY = RetryPolicy(attempts=3, first_delay=0.1, max_delay=1.0, max_retry_after=2.0)


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize("attempt, low, high", [(1, 0.05, 0.1), (2, 0.1, 0.2), (6, 0.5, 1.0)])
def test_backoff_doubles_with_jitter_up_to_the_cap(attempt, low, high):
    waits = [POLICY.backoff(attempt) for _ in range(200)]

    assert low <= min(waits) and max(waits) <= high
    assert len(set(waits)) > 1  # jittered, so clients that failed together spread out


def test_retry_after_in_seconds_is_honoured_up_to_the_cap():
    assert POLICY.wait_for(answer(503, **{"Retry-After": "2"}), 1) == 2.0
    assert POLICY.wait_for(answer(503, **{"Retry-After": "3"}), 1) is None


def test_retry_after_as_an_http_date_counts_from_now():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert 0 < POLICY.wait_for(answer(429, **{"Retry-After": soon}), 1) <= 1.0
    assert POLICY.wait_for(answer(429, **{"Retry-After": later}), 1) is None


def test_an_unreadable_retry_after_falls_back_to_backoff():
    assert 0.05 <= POLICY.wait_for(answer(503, **{"Retry-After": "soon-ish"}), 1) <= 0.1


def test_a_dependency_without_a_url_is_a_503_naming_the_variable(monkeypatch):
    monkeypatch.delenv("RECORDS_SERVICE_URL", raising=False)

    with pytest.raises(HTTPException) as raised:
        ServiceClient("records")

    assert (raised.value.status_code, raised.value.detail) == (
        503,
        "RECORDS_SERVICE_URL is not set; cannot reach records",
    )


def test_a_timeout_that_is_not_a_number_is_a_503_naming_the_variable(monkeypatch):
    monkeypatch.setenv("RECORDS_SERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICE_CALL_TIMEOUT", "five")

    with pytest.raises(HTTPException) as raised:
        ServiceClient("records")

    assert raised.value.status_code == 503
    assert "SERVICE_CALL_TIMEOUT='five'" in raised.value.detail


class Created(BaseHTTPRequestHandler):
    """Answers every POST with 201 and counts them."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts += 1  # type: ignore[attr-defined]
        body = json.dumps({"id": 1}).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class CallsBackOnBackoff(RetryPolicy):
    """The policy, but each backoff first calls `on_backoff` and then waits no time."""

    on_backoff: Callable[[int], None] = lambda attempt: None

    def backoff(self, attempt: int) -> float:
        self.on_backoff(attempt)
        return 0.0


def test_a_post_refused_at_connect_is_sent_again_once_the_service_listens(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Created, bind_and_activate=False)
    server.server_bind()  # bound but not listening: connections are refused
    server.posts = 0  # type: ignore[attr-defined]
    backoffs: list[int] = []

    def start_listening(attempt: int) -> None:
        backoffs.append(attempt)
        server.server_activate()
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    monkeypatch.setenv("RECORDS_SERVICE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        with ServiceClient("records", CallsBackOnBackoff(on_backoff=start_listening)) as client:
            body = client.post("/templates", {"name": "x"})
    finally:
        if backoffs:  # shutdown() would wait forever for a loop that never started
            server.shutdown()
        server.server_close()

    assert body == {"id": 1}
    assert backoffs == [1]  # refused once, then sent again
    assert server.posts == 1  # type: ignore[attr-defined]
