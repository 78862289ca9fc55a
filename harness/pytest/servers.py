"""pytest plugin (loaded with `harness`): the run's auxiliary servers as fixtures.

`server_urls` maps each server of the stack to its URL (`{"redis": "redis://127.0.0.1:…"}`).
`redis` gives a test a client on a logical database of its own: one per xdist worker
(database 1 + the worker's number; database 0 is left to the services), flushed before and
after each test, so parallel workers never see each other's keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.config import is_redis_url

if TYPE_CHECKING:
    from harness.pytest.plugin import RunningStack


@pytest.fixture(scope="session")
def server_urls(harness_stack: RunningStack) -> dict[str, str]:
    """URL of every auxiliary server of the stack, by name."""
    return harness_stack.server_urls


def redis_url(server_urls: dict[str, str]) -> str:
    """The stack's Redis: the server named `redis`, else the one server with a redis:// URL."""
    if "redis" in server_urls:
        return server_urls["redis"]
    found = [url for url in server_urls.values() if is_redis_url(url)]
    if len(found) != 1:
        pytest.fail(
            "harness: the redis fixture needs one Redis server in the stack (named 'redis', "
            "or the only one with a redis:// url); servers: "
            f"{sorted(server_urls) or 'none'}; add [tool.harness.servers.redis]",
            pytrace=False,
        )
    return found[0]


def worker_database() -> int:
    """This process's logical database: 1 + the xdist worker's number (1 without xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    match = re.fullmatch(r"gw(\d+)", worker)
    return 1 + (int(match.group(1)) if match else 0)


@pytest.fixture
def redis(server_urls: dict[str, str]) -> Iterator[Any]:
    """A `redis.Redis` client on this worker's own logical database, empty at the start of
    the test and flushed after it."""
    try:
        import redis as redis_client
    except ImportError:
        pytest.fail(
            "harness: the redis fixture needs the redis client: pip install 'harness[redis]'",
            pytrace=False,
        )
    url = redis_url(server_urls)
    index = worker_database()
    client = redis_client.Redis.from_url(url, db=0)
    try:
        settings: Any = client.config_get("databases")
        available = int(settings["databases"])
    finally:
        client.close()
    if index >= available:
        pytest.fail(
            f"harness: worker {os.environ.get('PYTEST_XDIST_WORKER')} needs Redis database "
            f"{index}, but the server has {available}; add '--databases', '{index + 1}' (or "
            "more) to its command in [tool.harness.servers]",
            pytrace=False,
        )
    client = redis_client.Redis.from_url(url, db=index)
    client.flushdb()  # a session killed before its teardown may have left keys
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
