"""WebSocket subscribers held through a load run, timing each published message's way to
every one of them.

Each user of a scenario with a `subscribe` table gets `subscribers` connections to its own
stream (the path filled from its setup, e.g. its own case). Every request that user's
load sends must publish exactly one message to that stream, so the k-th message a
subscriber receives is the user's k-th successful request. Per message sent while
measuring, two figures: from the request's send to each subscriber's receipt (`publish to
receive`, one sample per subscriber) and to the last subscriber's (`fan-out`). A message
a subscriber never got, or one more than the user published, is an error of the figure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from harness.exceptions import HarnessError
from harness.perf._scenarios import Subscribe


class Recorder(Protocol):
    """Where a figure's samples go (`RequestFigures`): a time, or an error, per window."""

    def record(self, window: int, seconds: float, error: str | None) -> None: ...


class StreamWatchError(HarnessError):
    """A subscriber could not connect: the scenario cannot run as declared."""


@dataclass
class _Subscriber:
    connection: ClientConnection
    received: list[float] = field(default_factory=list)


@dataclass
class _UserStream:
    """One user's published requests (when each went out) and its subscribers."""

    subscribers: list[_Subscriber]
    published: list[float] = field(default_factory=list)


class StreamWatch:
    """The subscribers of every user; `published(user, sent)` after each of the user's
    successful requests, then `figures(...)` once the load is over."""

    def __init__(self, subscribe: Subscribe, timeout: float) -> None:
        self.subscribe = subscribe
        self.timeout = timeout
        self._users: dict[int, _UserStream] = {}
        self._readers: list[asyncio.Task[None]] = []
        self._arrived = asyncio.Event()  # set by each message any subscriber receives

    async def open(self, user: int, stream_url: str) -> None:
        """Connect the user's subscribers to `stream_url` (ws://…) and start reading."""
        subscribers = []
        for _ in range(self.subscribe.subscribers):
            try:
                connection = await connect(
                    stream_url, proxy=None, open_timeout=self.timeout, max_queue=None
                )
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                raise StreamWatchError(
                    f"stream {self.subscribe.name!r}: cannot subscribe to {stream_url}: {exc}"
                ) from None
            subscribers.append(_Subscriber(connection))
        self._users[user] = _UserStream(subscribers)
        for subscriber in subscribers:
            self._readers.append(asyncio.create_task(_read(subscriber, self._arrived)))

    def published(self, user: int, sent: float) -> None:
        self._users[user].published.append(sent)

    async def figures(
        self, window_of: Callable[[float], int | None], figures: Mapping[str, Recorder]
    ) -> None:
        """Wait until every subscriber has every message (or none came for `timeout`
        seconds), then record the stream's two figures in `figures` (by name), each
        message in the window `window_of(its send)` gives (None: not measured)."""
        await self._drain()
        to_each, to_all = (figures[name] for name in self.subscribe.figure_names)
        for user, stream in self._users.items():
            _record(f"user {user}", stream, window_of, to_each, to_all)

    async def _drain(self) -> None:
        """Until no subscriber lacks a message, or none arrived for `timeout` seconds."""
        while True:
            self._arrived.clear()
            if all(
                len(subscriber.received) >= len(stream.published)
                for stream in self._users.values()
                for subscriber in stream.subscribers
            ):
                return
            try:
                await asyncio.wait_for(self._arrived.wait(), self.timeout)
            except TimeoutError:
                return  # nothing more came: what is missing is lost

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        for stream in self._users.values():
            for subscriber in stream.subscribers:
                await subscriber.connection.close()


def _record(
    who: str,
    stream: _UserStream,
    window_of: Callable[[float], int | None],
    to_each: Recorder,
    to_all: Recorder,
) -> None:
    """One user's messages: a sample per subscriber that got it, an error per one that did
    not; the fan-out when all did; an error per message more than were published."""
    for k, sent in enumerate(stream.published):
        window = window_of(sent)
        if window is None:
            continue
        receipts = [s.received[k] for s in stream.subscribers if k < len(s.received)]
        for receipt in receipts:
            if receipt >= sent:
                to_each.record(window, receipt - sent, None)
            else:
                early = f"{who}: message {k + 1} came before its request went out"
                to_each.record(window, 0.0, f"{early} (they do not pair up)")
        for _ in range(len(stream.subscribers) - len(receipts)):
            to_each.record(window, 0.0, f"{who}: message {k + 1} never came")
        if len(receipts) < len(stream.subscribers):
            to_all.record(window, 0.0, f"{who}: message {k + 1} did not reach every subscriber")
        else:
            to_all.record(window, max(receipts) - sent, None)
    for subscriber in stream.subscribers:
        extra = len(subscriber.received) - len(stream.published)
        if extra > 0:
            to_each.record(
                0, 0.0, f"{who}: {extra} message(s) more than its {len(stream.published)} requests"
            )


async def _read(subscriber: _Subscriber, arrived: asyncio.Event) -> None:
    """Note when each message arrives; end when the connection closes."""
    try:
        async for _ in subscriber.connection:
            subscriber.received.append(time.perf_counter())
            arrived.set()
    except ConnectionClosed:
        pass
