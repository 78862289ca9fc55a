"""Normalised citations of a text, kept in Redis for `CASELAW_CACHE_TTL` seconds (default one
hour), keyed by the text's SHA-256.

The cache only saves work: any Redis failure (down, refusing, too slow) is reported as
`unavailable`, the citations are found uncached, and the answer is the same.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from enum import StrEnum

from redis import Redis, RedisError

from services.common.redis_connection import redis_from_env

KEY_PREFIX = "caselaw:citations:"
DEFAULT_TTL = 3600
REDIS_TIMEOUT = 0.25

log = logging.getLogger("caselaw.cache")


class CacheState(StrEnum):
    HIT = "hit"
    MISS = "miss"
    UNAVAILABLE = "unavailable"


def cache_key(text: str) -> str:
    return KEY_PREFIX + hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _client() -> Redis:
    return redis_from_env(socket_timeout=REDIS_TIMEOUT)


def cached(text: str) -> tuple[CacheState, bytes | None]:
    """The cached answer for `text`, if Redis has it."""
    try:
        found = _client().get(cache_key(text))
    except (RedisError, RuntimeError) as exc:
        log.warning("citation cache unavailable: %s", exc)
        return CacheState.UNAVAILABLE, None
    return (CacheState.HIT, found) if found is not None else (CacheState.MISS, None)


def keep(text: str, answer: bytes) -> None:
    """Keep `answer` for `text` for the TTL; a failure only means the next one is a miss."""
    try:
        _client().set(
            cache_key(text), answer, ex=int(os.environ.get("CASELAW_CACHE_TTL", DEFAULT_TTL))
        )
    except (RedisError, RuntimeError) as exc:
        log.warning("citation cache unavailable: %s", exc)
