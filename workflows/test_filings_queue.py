"""The filings queue's hard cases, each on a filings process and workers of the test's own:
its own Redis database (the `redis` fixture's) or Redis server (`server_instance`'s, to kill,
restart or restrict), and its own database (`fresh_database`), so stopping, killing or
flooding them disturbs no other test.

A full queue refuses with 503 and Retry-After and loses nothing; a worker killed mid-message
leaves the message to its successor, applied once, and so does one killed between its commit
and its acknowledgement; a Redis restarted mid-run costs 503s while it is down, then the
queue and the worker go on; a backlog of 10,000 events drains in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import redis as redis_client
from filing_events import (
    STATUSES,
    applied_events,
    backlog,
    status_event,
    wait_for,
    wait_until_applied,
)
from sqlalchemy import create_engine
from steps import created

from services.filings.queue import DEAD_LETTERS, FIELD, STREAM


@dataclass
class PrivateFilings:
    """A filings process (`client`) whose workers the test starts and kills itself."""

    client: httpx.Client
    env: dict[str, str]
    instances: Callable[..., str]

    def send(self, event: dict) -> httpx.Response:
        return self.client.post("/webhooks/efiling", json=event)

    def start_worker(self) -> str:
        return self.instances("filings-worker", **self.env)


@pytest.fixture
def private_filings(
    fresh_database, redis, server_urls, service_instance, private_client
) -> Callable[..., PrivateFilings]:
    """`private_filings(FILINGS_QUEUE_MAX_LENGTH="5")`: filings on this test's Redis database
    (or the Redis at `redis_url=`) and database, no worker running yet; its answers are
    checked against its contract."""
    database = redis.connection_pool.connection_kwargs["db"]

    def start(redis_url: str = f"{server_urls['redis']}/{database}", **env: str) -> PrivateFilings:
        wiring = {"DATABASE_URL": fresh_database, "REDIS_URL": redis_url}
        return PrivateFilings(private_client("filings", **wiring, **env), wiring, service_instance)

    return start


@pytest.fixture
def own_redis(server_instance) -> Iterator[tuple[str, redis_client.Redis]]:
    """A Redis server of this test's own, and a client on it."""
    url = server_instance("redis")
    client = redis_client.Redis.from_url(url, socket_timeout=30)
    yield url, client
    client.close()


@contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Hold the database so that the worker can read but not write filings' events."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("BEGIN")
                connection.exec_driver_sql("LOCK TABLE filings_status_events IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                connection.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()


def test_a_full_queue_answers_503_with_retry_after_and_loses_nothing(
    private_filings, redis, case, unique
):
    filings = private_filings(FILINGS_QUEUE_MAX_LENGTH="5")
    event_ids = [unique("evt") for _ in range(6)]
    for event_id in event_ids[:5]:
        created(filings.send(status_event(case["id"], event_id)), 202)

    refused = filings.send(status_event(case["id"], event_ids[5]))

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert "the filing queue is full" in refused.json()["detail"]
    assert backlog(redis) == (5, 0)  # the five waiting, the refused one not among them

    filings.start_worker()
    wait_for(lambda: backlog(redis) == (0, 0), "the five applied and acknowledged")
    created(filings.send(status_event(case["id"], event_ids[5])), 202)  # sent again, later
    events = wait_until_applied(filings.client, case["id"], event_ids[5])
    assert [e["event_id"] for e in events] == event_ids


def test_a_worker_killed_mid_message_leaves_it_to_the_next_one_applied_once(
    private_filings, fresh_database, redis, service_instance, case, unique
):
    filings = private_filings()
    worker = filings.start_worker()
    held, last = unique("evt"), unique("evt")
    assert applied_events(filings.client, case["id"]) == []

    with write_lock(fresh_database):
        created(filings.send(status_event(case["id"], held, "accepted")), 202)
        wait_for(lambda: backlog(redis) == (1, 1), "the worker holding the event, unacknowledged")
        service_instance.kill(worker)

    assert applied_events(filings.client, case["id"]) == []  # the killed worker committed nothing
    assert backlog(redis) == (1, 1)  # still delivered to the dead worker, not acknowledged

    filings.start_worker()
    wait_until_applied(filings.client, case["id"], held)  # the dead worker's entry, taken over
    wait_for(lambda: backlog(redis) == (0, 0), "the taken-over entry acknowledged")
    created(filings.send(status_event(case["id"], held, "accepted")), 202)  # and a redelivery
    created(filings.send(status_event(case["id"], last, "served")), 202)

    events = wait_until_applied(filings.client, case["id"], last)
    assert [(e["position"], e["event_id"]) for e in events] == [(1, held), (2, last)]
    wait_for(lambda: backlog(redis) == (0, 0), "every entry acknowledged and deleted")


def test_an_entry_that_is_not_a_status_event_goes_to_the_dead_letters(
    private_filings, redis, case, unique
):
    filings = private_filings()
    redis.xadd(STREAM, {FIELD: b'{"event_id": "no case"}'})  # what no filings process queues
    after = unique("evt")
    created(filings.send(status_event(case["id"], after)), 202)

    filings.start_worker()

    events = wait_until_applied(filings.client, case["id"], after)
    assert [e["event_id"] for e in events] == [after]  # the worker went on past it
    [(_, dead)] = redis.xrange(DEAD_LETTERS)
    assert dead[FIELD.encode()] == b'{"event_id": "no case"}'
    assert b"case_id" in dead[b"reason"]  # the validation error names the missing field
    wait_for(lambda: backlog(redis) == (0, 0), "both entries acknowledged and deleted")


def test_a_backlog_of_10000_events_drains_in_order(private_filings, redis, make_case, unique):
    """20 cases of 500 events each queued while no worker runs, then one worker drains them."""
    filings = private_filings()
    cases = [make_case()["id"] for _ in range(20)]
    run, per_case = unique("backlog"), 500

    def queue_all(case_id: int) -> None:
        with httpx.Client(base_url=str(filings.client.base_url), timeout=30) as client:
            for n in range(1, per_case + 1):
                event = status_event(case_id, f"{run}-{n}-{case_id}", STATUSES[n % 4])
                assert client.post("/webhooks/efiling", json=event).status_code == 202

    with ThreadPoolExecutor(max_workers=len(cases)) as senders:
        list(senders.map(queue_all, cases))
    assert backlog(redis) == (10_000, 0)

    filings.start_worker()

    wait_for(lambda: backlog(redis) == (0, 0), "the backlog drained", patience=900)
    for case_id in cases:
        events = applied_events(filings.client, case_id)
        assert [e["event_id"] for e in events] == [
            f"{run}-{n}-{case_id}" for n in range(1, per_case + 1)
        ]


def test_a_worker_killed_between_its_commit_and_its_acknowledgement_changes_nothing_twice(
    private_filings, own_redis, service_instance, case, unique
):
    url, server = own_redis
    filings = private_filings(redis_url=url)
    server.execute_command("ACL", "SETUSER", "default", "-xack")  # every acknowledgement fails
    worker = filings.start_worker()
    held, last = unique("evt"), unique("evt")

    created(filings.send(status_event(case["id"], held, "accepted")), 202)
    wait_until_applied(filings.client, case["id"], held)  # committed, never acknowledged
    service_instance.kill(worker)
    assert backlog(server) == (1, 1)

    server.execute_command("ACL", "SETUSER", "default", "+xack")
    filings.start_worker()  # delivered again to the next worker: skipped, then acknowledged
    created(filings.send(status_event(case["id"], last, "served")), 202)

    events = wait_until_applied(filings.client, case["id"], last)
    assert [(e["position"], e["event_id"]) for e in events] == [(1, held), (2, last)]
    [envelope] = filings.client.get(f"/cases/{case['id']}/filings").json()
    assert envelope["events"] == 2 and envelope["status"] == "served"
    wait_for(lambda: backlog(server) == (0, 0), "every entry acknowledged and deleted")


def test_redis_restarted_mid_run_refuses_while_down_then_the_queue_and_worker_go_on(
    private_filings, own_redis, server_instance, case, unique
):
    url, server = own_redis
    filings = private_filings(redis_url=url)
    filings.start_worker()
    before, retried, after = unique("evt"), unique("evt"), unique("evt")
    created(filings.send(status_event(case["id"], before)), 202)
    wait_until_applied(filings.client, case["id"], before)

    server_instance.kill(url)
    refused = filings.send(status_event(case["id"], retried, "under_review"))

    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "the filing queue is unreachable" in refused.json()["detail"]

    server_instance.restart(url)
    created(filings.send(status_event(case["id"], retried, "under_review")), 202)  # sent again
    created(filings.send(status_event(case["id"], after, "accepted")), 202)

    events = wait_until_applied(filings.client, case["id"], after)
    assert [e["event_id"] for e in events] == [before, retried, after]
    wait_for(lambda: backlog(server) == (0, 0), "every entry acknowledged and deleted")
