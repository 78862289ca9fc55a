"""caselaw's citation cache in Redis: a miss then a hit with the same answer, expiry after its
TTL, and the same answer, uncached, while Redis is unreachable (never a 500).

Expiry and outage use a caselaw process of the test's own (`service_instance`): on the test's
Redis database with a one-second TTL, or on a port where nothing listens.
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
def private_caselaw(service_instance, contract_validators) -> Iterator:
    """`private_caselaw(REDIS_URL=…)`: a client of a caselaw process of this test's own,
    checked against caselaw's contract."""
    clients: list[httpx.Client] = []

    def start(**env: str) -> httpx.Client:
        hook = contract_validators["caselaw"].hook()
        clients.append(
            httpx.Client(
                base_url=service_instance("caselaw", **env),
                timeout=30,
                event_hooks={"response": [hook]},
            )
        )
        return clients[-1]

    yield start
    for client in clients:
        client.close()


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


def test_a_cached_answer_expires_after_its_ttl(private_caselaw, redis, server_urls, unique):
    database = redis.connection_pool.connection_kwargs["db"]
    caselaw = private_caselaw(REDIS_URL=f"{server_urls['redis']}/{database}", CASELAW_CACHE_TTL="1")
    text = brief(unique)

    assert citations(caselaw, text)[0] == "miss"
    wait_for(lambda: not redis.exists(cache_key(text)), "the cached answer expired", patience=60)

    assert citations(caselaw, text)[0] == "miss"


def test_with_redis_unreachable_citations_are_found_uncached(
    private_caselaw, caselaw, closed_port, unique
):
    offline = private_caselaw(REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    text = brief(unique)

    states = [citations(offline, text) for _ in range(2)]

    assert [state for state, _ in states] == ["unavailable", "unavailable"]
    assert states[0][1] == citations(caselaw, text)[1]  # what a caselaw with its cache answers
