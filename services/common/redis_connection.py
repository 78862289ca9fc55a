"""The Redis a service depends on, from REDIS_URL (harness hands it to every service that lists
the server in `depends_on`), with short timeouts so a Redis that is gone fails fast."""

from __future__ import annotations

import os

import redis

CONNECT_TIMEOUT = 0.5


def redis_from_env(socket_timeout: float | None) -> redis.Redis:
    """A client on REDIS_URL; `socket_timeout` bounds each command (None: a blocking read may
    wait as long as it asks to)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set; start this service through harness")
    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=socket_timeout
    )
