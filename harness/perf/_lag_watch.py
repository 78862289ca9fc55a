"""How long a change takes to become visible, read from the timestamps the services wrote.

A scenario with a `lag` table names, per user, a listing (its path filled from the user's
setup, e.g. its own case's applied events) whose items carry two ISO 8601 timestamps the
services wrote: when the change was accepted (`from`) and when it was applied (`to`). Every
successful request of the user's load must make one item appear there. Once the load is
over, the listings are read again until each holds an item per request, or none grew for
`timeout` seconds. Each item accepted while measuring is one sample of
`to - from`, in the window its acceptance falls in; an item that never appeared, or a
listing that could not be read, is an error of the figure.

Both timestamps come from the services' clock, the machine's: the figure holds however
late the generator reads the listing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from harness.perf._load_client import LoadClient, LoadClientError
from harness.perf._scenarios import Lag
from harness.perf._stream_watch import Recorder

POLL_SECONDS = 0.05


class LagWatch:
    """Each user's listing (`follow`) and successful requests (`published`); then reads
    the listings and records the figure (`figures`)."""

    def __init__(self, lag: Lag, timeout: float) -> None:
        self.lag = lag
        self.timeout = timeout
        self._expected: dict[str, int] = {}  # listing URL -> successful requests
        self._listings: dict[int, str] = {}  # user -> its listing's URL
        self._wall_offset = time.time() - time.perf_counter()  # perf_counter -> epoch

    @property
    def name(self) -> str:
        return self.lag.name

    def follow(self, user: int, listing_url: str) -> None:
        self._listings[user] = listing_url
        self._expected.setdefault(listing_url, 0)

    def published(self, user: int) -> None:
        self._expected[self._listings[user]] += 1

    async def figures(
        self,
        client: LoadClient,
        window_of: Callable[[float], int | None],
        figure: Recorder,
    ) -> None:
        """Read every listing until complete (or stalled), then record the figure."""
        listings = await self._read_all(client)
        for url, expected in self._expected.items():
            items = listings[url]
            if isinstance(items, str):
                figure.record(0, 0.0, items)
                continue
            for item in items:
                self._record(url, item, window_of, figure)
            missing = expected - len(items)
            for _ in range(missing):
                figure.record(0, 0.0, f"{url}: {missing} of {expected} items never appeared")

    async def _read_all(self, client: LoadClient) -> dict[str, list[Any] | str]:
        """Each listing's items (or why it could not be read), once every listing holds
        its expected count or none grew for `timeout` seconds (one that could not be read
        is read again meanwhile)."""
        listings: dict[str, list[Any] | str] = {}
        grew_at = time.monotonic()
        while True:
            incomplete = [
                url
                for url, expected in self._expected.items()
                if isinstance(listings.get(url, ""), str) or len(listings[url]) < expected
            ]
            if not incomplete or time.monotonic() - grew_at > self.timeout:
                return listings
            for url in incomplete:
                items = await _listing(client, url)
                if _count(items) > _count(listings.get(url, "")):
                    grew_at = time.monotonic()
                listings[url] = items
            await asyncio.sleep(POLL_SECONDS)

    def _record(
        self, url: str, item: Any, window_of: Callable[[float], int | None], figure: Recorder
    ) -> None:
        """One item: a sample in the window of its acceptance (none when not measured)."""
        try:
            start, end = (_moment(item, name) for name in (self.lag.start, self.lag.end))
        except ValueError as exc:
            figure.record(0, 0.0, f"{url}: {exc}")
            return
        window = window_of(start - self._wall_offset)
        if window is not None:
            figure.record(window, max(end - start, 0.0), None)


def _count(items: list[Any] | str) -> int:
    """How many items a listing holds (none when it could not be read)."""
    return 0 if isinstance(items, str) else len(items)


async def _listing(client: LoadClient, url: str) -> list[Any] | str:
    """The listing's items, or what went wrong reading it."""
    try:
        answer = await client.request("GET", url, None)
    except LoadClientError as exc:
        return f"GET {url}: {exc}"
    if answer.status != 200:
        return f"GET {url}: {answer.status}, expected 200"
    try:
        items = json.loads(answer.body)
    except ValueError:
        return f"GET {url}: the answer is not JSON"
    return items if isinstance(items, list) else f"GET {url}: the answer is not a JSON array"


def _moment(item: Any, name: str) -> float:
    """The item's timestamp `name` in seconds since the epoch; ValueError naming it."""
    value = item.get(name) if isinstance(item, dict) else None
    if not isinstance(value, str):
        raise ValueError(f"an item has no timestamp {name!r}: {str(item)[:120]}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone: cannot be placed in time")
    return moment.timestamp()
