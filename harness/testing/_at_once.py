"""N requests released at the same moment against a live service, every answer collected.

A race (two creations reading the same "last number", a uniqueness the code relies on
but the database does not hold) shows only when requests overlap in the service. Each
`Call` gets its own thread and connection; all wait at one barrier and go together.
`send_at_once(url, [Call("POST", "/exhibits", json=…)] * 20)` -> the 20 responses, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.exceptions import HarnessError

MAX_CALLS = 200  # threads and connections on one machine; traffic stays bounded
TIMEOUT = httpx.Timeout(60.0, connect=10.0)

Hook = Callable[[httpx.Response], None]


@dataclass(frozen=True)
class Call:
    """One request: method, path (relative to the service's URL) and an optional JSON body."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)


def send_at_once(
    base_url: str, calls: Sequence[Call], *, response_hooks: Sequence[Hook] = ()
) -> list[httpx.Response]:
    """Send every call at the same moment; their responses in the order of `calls`.

    `response_hooks` run on each response (a contract check, say). A call that gets no
    answer (refused, reset, timed out) raises HarnessError naming it.
    """
    if not 1 <= len(calls) <= MAX_CALLS:
        raise HarnessError(
            f"send_at_once: {len(calls)} calls; give 1 to {MAX_CALLS} (split a larger burst)"
        )
    barrier = threading.Barrier(len(calls))
    hooks = {"response": list(response_hooks)}
    clients = [
        httpx.Client(base_url=base_url, timeout=TIMEOUT, trust_env=False, event_hooks=hooks)
        for _ in calls
    ]
    requests = [
        client.build_request(call.method, call.path, json=call.json, params=call.params)
        for client, call in zip(clients, calls, strict=True)
    ]

    def send(index: int) -> httpx.Response:
        barrier.wait()
        try:
            return clients[index].send(requests[index])
        except httpx.TransportError as exc:
            call = calls[index]
            raise HarnessError(
                f"send_at_once: {call.method} {base_url}{call.path} got no answer: {exc!r}"
            ) from None

    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(send, range(len(calls))))
    finally:
        for client in clients:
            client.close()
