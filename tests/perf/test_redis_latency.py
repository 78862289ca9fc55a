"""Redis's own time per command, read from a real redis-server's LATENCY HISTOGRAM while
commands run: every call counted once, in its window, the reader's own calls left out."""

from __future__ import annotations

import time

import pytest
import redis

from harness.exceptions import HarnessError
from harness.perf._redis_latency import RedisLatencySampler, calls_per_bucket, difference
from harness.stack._stack import Stack
from tests.conftest import app_command, patience, redis_server


def read_after(sampler: RedisLatencySampler) -> float:
    """A window bound, once the sampler has read the histogram after it (its own pace)."""
    bound = time.perf_counter()
    deadline = time.monotonic() + patience(60)
    while sampler.readings[-1][0] < bound:
        assert time.monotonic() < deadline, "the sampler never read the histogram again"
        time.sleep(0.005)
    return bound


def test_every_command_in_a_window_is_counted_once_and_the_readers_own_are_not(make_config):
    config = make_config({"api": {"command": app_command()}}, servers={"cache": redis_server()})
    stack = Stack(config, "redis-latency")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    client = redis.Redis.from_url(state.servers["cache"].url)
    try:
        client.ping()  # connected (and its HELLO sent) before the first window
        with RedisLatencySampler(state.servers["cache"].url, interval=0.01) as sampler:
            first = read_after(sampler)
            for n in range(200):
                client.set(f"key-{n}", n)
            middle = read_after(sampler)
            for n in range(50):
                client.get(f"key-{n}")
            last = time.perf_counter()
        windows = sampler.windows([first, middle, last])
    finally:
        client.close()
        stack.down()

    assert [window.get_total_count() for window in windows] == [200, 50]


def test_a_reply_becomes_calls_per_bucket_from_its_cumulative_counts():
    reply = [
        b"set", [b"calls", 5, b"histogram_usec", [2, 1, 4, 3, 16, 5]],
        b"get", [b"calls", 2, b"histogram_usec", [4, 2]],
        b"latency|histogram", [b"calls", 9, b"histogram_usec", [64, 9]],
    ]  # fmt: skip

    parsed = {  # as redis-py parses it
        b"set": {b"calls": 5, b"histogram_usec": {2: 1, 4: 3, 16: 5}},
        b"get": {b"calls": 2, b"histogram_usec": {4: 2}},
    }

    assert calls_per_bucket(reply) == calls_per_bucket(parsed) == {2: 1, 4: 4, 16: 2}
    # a server restarted between two readings counts from zero: nothing negative
    assert difference({4: 10}, {4: 3, 8: 1}) == {4: 0, 8: 1}


def test_a_redis_that_cannot_report_its_latency_is_a_clear_error(make_config):
    # as a Redis older than 7 answers: LATENCY HISTOGRAM unknown
    disabled = redis_server()
    disabled["command"] += ["--rename-command", "LATENCY", ""]
    config = make_config({"api": {"command": app_command()}}, servers={"cache": disabled})
    stack = Stack(config, "redis-no-latency")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        with (
            pytest.raises(HarnessError, match="LATENCY HISTOGRAM needs Redis 7 or later"),
            RedisLatencySampler(state.servers["cache"].url),
        ):
            pass
    finally:
        stack.down()
