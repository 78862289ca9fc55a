"""caselaw's citation cache in Redis: a miss then a hit with the same answer, expiry after its
TTL, and the same answer, uncached, while Redis is unreachable (never a 500).

Expiry and outage use a caselaw process of the test's own (`service_instance`): on the test's
Redis database with a one-second TTL (Redis's keyspace notifications show the answer set,
then expired), or on a port where nothing listens.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from filing_events import wait_for

from services.caselaw.cache import cache_key


@pytest.fixture
def caselaw(service_clients):
    return service_clients["caselaw"]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but never listening: a connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def brief(unique) -> str:
    return f"{unique('Brief')}: see Roe v. Wade, 410 U.S. 113, and 123 S.W.3d 456 (Tex. 2004)."


def citations(client: httpx.Client, text: str) -> tuple[str, dict]:
    response = client.post("/citations", json={"text": text})
    assert response.status_code == 200, response.text
    return response.headers["X-Cache"], response.json()


def test_a_second_request_for_the_same_text_is_a_hit_with_the_same_answer(caselaw, unique):
    text = brief(unique)

    first_state, first = citations(caselaw, text)
    second_state, second = citations(caselaw, text)

    assert (first_state, second_state) == ("miss", "hit")
    assert second == first
    assert [c["normalized"] for c in first["citations"]] == [
        "410 U.S. 113",
        "123 S.W.3d 456 (Tex. 2004)",
    ]


class KeyEvents:
    """Redis's own keyspace notifications of one key in the test's database."""

    def __init__(self, redis, key: str) -> None:
        database = redis.connection_pool.connection_kwargs["db"]
        self._listener = redis.pubsub()
        self._listener.subscribe(f"__keyspace@{database}__:{key}")
        assert self._next()["type"] == "subscribe"  # listening before anything happens

    def next(self) -> str:
        """The key's next event ("set", "expired", …), waited for."""
        return self._next()["data"].decode()

    def _next(self) -> dict:
        return wait_for(lambda: self._listener.get_message(timeout=1.0), "a keyspace event")

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def key_events(redis) -> Iterator:
    """`key_events(key)`: a `KeyEvents` of that key; notifications on while the test runs."""
    notified = redis.config_get("notify-keyspace-events")["notify-keyspace-events"]
    redis.config_set("notify-keyspace-events", "K$x")  # string commands and expiries
    made: list[KeyEvents] = []

    def listen(key: str) -> KeyEvents:
        made.append(KeyEvents(redis, key))
        return made[-1]

    yield listen
    for events in made:
        events.close()
    redis.config_set("notify-keyspace-events", notified)


def test_a_cached_answer_expires_after_its_ttl(
    private_client, redis, server_urls, key_events, unique
):
    database = redis.connection_pool.connection_kwargs["db"]
    caselaw = private_client(
        "caselaw", REDIS_URL=f"{server_urls['redis']}/{database}", CASELAW_CACHE_TTL="1"
    )
    text = brief(unique)
    events = key_events(cache_key(text))

    assert citations(caselaw, text)[0] == "miss"
    assert events.next() == "set"  # cached, then gone by its TTL, not deleted
    assert events.next() == "expired"

    assert citations(caselaw, text)[0] == "miss"


def test_with_redis_unreachable_citations_are_found_uncached(
    private_client, caselaw, closed_port, unique
):
    offline = private_client("caselaw", REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    text = brief(unique)

    states = [citations(offline, text) for _ in range(2)]

    assert [state for state, _ in states] == ["unavailable", "unavailable"]
    assert states[0][1] == citations(caselaw, text)[1]  # what a caselaw with its cache answers
