"""Redis's own time per command while a scenario runs, from its `LATENCY HISTOGRAM`
(Redis 7 and later): a cumulative count of calls per power-of-two bucket of microseconds,
per command, kept by the server itself.

A scenario that watches a Redis server (`watch = ["redis"]`, a server whose URL is
redis://) gets the figure `<server>: command time`: the histogram is read every
`interval` seconds while the scenario runs, and each measurement window's calls are the
difference between the first readings at or after its bounds, every command but this
reader's own.
A call is counted at its bucket's upper bound, so the percentiles are "at most"; they are
judged like a request's (`[requests."redis: command time"]` in budgets.toml).
"""

from __future__ import annotations

import time
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.exceptions import HarnessError
from harness.perf import _latency as latency
from harness.perf._periodic import Periodic, at_or_after

Buckets = dict[int, int]  # upper bound (µs) -> calls in that bucket
_OWN = b"latency"  # the reader's own command (reported as latency|histogram)


class RedisLatencySampler(Periodic):
    """Reads a Redis server's latency histogram from a background thread while entered."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        try:
            import redis
        except ImportError:
            raise HarnessError(
                f"watching the Redis at {url} needs the redis client: pip install 'harness[redis]'"
            ) from None
        self._client = redis.Redis.from_url(url, socket_timeout=5)
        self._unsupported = redis.ResponseError
        self.url = url
        self.interval = interval
        self.readings: list[tuple[float, Buckets]] = []

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self._client.close()

    def _take(self) -> None:
        asked = time.perf_counter()  # a reading at or after a moment was asked for after it
        try:
            reply = self._client.execute_command("LATENCY", "HISTOGRAM")
        except self._unsupported as exc:
            raise HarnessError(
                f"the Redis at {self.url} cannot report its time per command ({exc}); "
                "LATENCY HISTOGRAM needs Redis 7 or later: upgrade it, or leave the server "
                "out of the scenario's watch"
            ) from None
        self.readings.append((asked, calls_per_bucket(reply)))

    def windows(self, bounds: list[float]) -> list[HdrHistogram]:
        """One histogram per window between consecutive `bounds` (perf_counter moments)."""
        at = [at_or_after(self.readings, moment) for moment in bounds]
        return [histogram_of(difference(at[k], at[k + 1])) for k in range(len(at) - 1)]


def calls_per_bucket(reply: Any) -> Buckets:
    """The calls of every command but the reader's own per bucket, from the reply of
    `LATENCY HISTOGRAM`: {name: {b"calls": n, b"histogram_usec": {bound: cumulative}}} as
    redis-py parses it, or the flat arrays of the protocol."""
    buckets: Buckets = {}
    for name, details in _pairs(reply):
        if name.lower().split(b"|")[0] == _OWN:
            continue
        below = 0
        for bound, cumulative in sorted(_pairs(dict(_pairs(details))[b"histogram_usec"])):
            buckets[int(bound)] = buckets.get(int(bound), 0) + int(cumulative) - below
            below = int(cumulative)
    return buckets


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """A map's (key, value) pairs, whether parsed to a dict or a flat [k, v, k, v] array."""
    if isinstance(value, dict):
        return list(value.items())
    return list(zip(value[::2], value[1::2], strict=True))


def difference(before: Buckets, after: Buckets) -> Buckets:
    """The calls made between two readings (a reset server counts from zero again)."""
    return {bound: max(count - before.get(bound, 0), 0) for bound, count in after.items()}


def histogram_of(buckets: Buckets) -> HdrHistogram:
    histogram = latency.new_histogram()
    for bound, count in buckets.items():
        if count:
            histogram.record_value(max(bound, 1), count)
    return histogram
