"""The queue of status events in Redis: a stream read by one consumer group.

A stream gives at-least-once delivery: an entry read by the worker stays in the group's
pending list until the worker acknowledges it, which it does only after the transaction that
applied it committed; a worker killed before that reads its pending entries again when it
restarts (`read(pending=True)`). The stream's order is the order events were accepted, so one
consumer applying entries in order keeps every case's events in order. An acknowledged entry
is deleted, so the stream's length is the backlog, and `enqueue` refuses to grow it past
`max_length` (checked and added in one Lua script: no race lets it overflow).
"""

from __future__ import annotations

import redis

STREAM = "filings:status-events"
DEAD_LETTERS = "filings:status-events:dead"
GROUP = "filings-worker"
CONSUMER = "worker"  # one worker per stream: per-case order needs a single consumer
FIELD = "event"

_ENQUEUE = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then
    return false
end
return redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[3])
"""

Entry = tuple[str, bytes | None]  # stream id, the event's JSON (None: deleted meanwhile)


class QueueFull(Exception):
    """The backlog is at its maximum length; nothing was added."""


class StatusQueue:
    """Status events waiting for the worker, in the order they were accepted."""

    def __init__(self, client: redis.Redis, max_length: int = 0) -> None:
        self._client = client
        self._max_length = max_length
        self._enqueue = client.register_script(_ENQUEUE)

    def enqueue(self, event_json: str) -> str:
        """Add an event; its stream id. QueueFull when `max_length` events wait already."""
        added = self._enqueue(keys=[STREAM], args=[self._max_length, FIELD, event_json])
        if added is None:
            raise QueueFull(f"{self._max_length} events are waiting already")
        return added.decode()

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless it exists; it reads from the
        stream's start, so events accepted before the worker first ran are applied too."""
        try:
            self._client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, *, pending: bool, count: int, block_ms: int) -> list[Entry]:
        """Up to `count` entries: those delivered before but never acknowledged (`pending`),
        else new ones, waiting up to `block_ms` for one."""
        answer = self._client.xreadgroup(
            GROUP,
            CONSUMER,
            {STREAM: "0" if pending else ">"},
            count=count,
            block=None if pending else block_ms,
        )
        if not answer:
            return []
        [(_stream, entries)] = answer
        return [
            (entry_id.decode(), (fields or {}).get(FIELD.encode())) for entry_id, fields in entries
        ]

    def acknowledge(self, entry_ids: list[str]) -> None:
        """The entries are applied: acknowledged and deleted, in one transaction."""
        with self._client.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *entry_ids)
            pipe.xdel(STREAM, *entry_ids)
            pipe.execute()

    def bury(self, entry_id: str, body: bytes | None, reason: str) -> None:
        """Move an entry the worker cannot read to the dead-letter stream."""
        with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(DEAD_LETTERS, {FIELD: body or b"", "entry": entry_id, "reason": reason})
            pipe.xack(STREAM, GROUP, entry_id)
            pipe.xdel(STREAM, entry_id)
            pipe.execute()
