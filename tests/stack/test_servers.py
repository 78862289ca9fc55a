"""Auxiliary servers in a stack, against a real redis-server on real ports: readiness,
`<NAME>_URL` wiring, status, and teardown from the state file alone."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from conftest import app_command, assert_nothing_left, patience, redis_server
from harness.exceptions import RunStateError, ServiceStartError
from harness.infra._ports import is_port_free
from harness.stack._stack import Stack

READINESS = {
    "command": {"command": ["redis-cli", "-p", "{port}", "ping"]},
    "log": {"log": "Ready to accept connections"},
    "tcp": {"tcp": True},
}


def env_of(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url + "/env", timeout=30) as response:
        return json.load(response)


@pytest.mark.parametrize("ready", sorted(READINESS))
def test_a_dependant_gets_the_servers_url_and_the_server_answers(make_config, ready):
    config = make_config(
        {
            "api": {"command": app_command(), "depends_on": ["redis"]},
            "other": {"command": app_command()},
        },
        servers={"redis": redis_server(READINESS[ready])},
    )
    stack = Stack(config, f"redis-{ready}")
    state = stack.up("sqlite", auto_ports=True)
    try:
        server = state.servers["redis"]
        assert server.url == f"redis://127.0.0.1:{server.port}"
        assert server.healthy_after is not None
        assert env_of(state.services["api"].url)["REDIS_URL"] == server.url
        assert "REDIS_URL" not in env_of(state.services["other"].url)  # it does not depend on it
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("dir")["dir"] == str(stack.run.path / "servers" / "redis")
        client.close()
    finally:
        report = stack.down()
    assert report.ok, report.problems
    assert report.stopped.index("api") < report.stopped.index("redis")  # dependants first
    assert_nothing_left(state)
    assert not (stack.run.path / "servers").exists()  # its data directory went with the run


def test_a_server_may_depend_on_a_server_and_gets_its_url(make_config):
    config = make_config(
        {"api": {"command": app_command(), "depends_on": ["replica"]}},
        servers={
            "redis": redis_server(),
            "replica": redis_server(depends_on=["redis"]),
        },
    )
    stack = Stack(config, "replica")
    state = stack.up("sqlite", auto_ports=True)
    try:
        replica = psutil_environ(state.servers["replica"].process.pid)
        assert replica["REDIS_URL"] == state.servers["redis"].url
        assert env_of(state.services["api"].url)["REPLICA_URL"] == state.servers["replica"].url
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def psutil_environ(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/environ").read_bytes().decode()
    return dict(item.split("=", 1) for item in text.split("\0") if "=" in item)


def test_status_lists_servers_beside_services(make_config):
    config = make_config(
        {"api": {"command": app_command(), "depends_on": ["redis"]}},
        servers={"redis": redis_server(), "cache": redis_server({"tcp": True})},
    )
    stack = Stack(config, "status")
    state = stack.up("sqlite", auto_ports=True)
    try:
        rows = {row.name: row for row in stack.status()}
        assert [(name, row.kind) for name, row in rows.items()] == [
            ("api", "service"),
            ("redis", "server"),
            ("cache", "server"),
        ]
        assert all(row.running and row.healthy for row in rows.values())
        assert rows["redis"].url == state.servers["redis"].url
        os.kill(state.servers["cache"].process.pid, 9)
        rows = {row.name: row for row in Stack(config, "status").status()}
        assert not rows["cache"].running and not rows["cache"].healthy
    finally:
        assert Stack(config, "status").down().ok
    assert_nothing_left(state)


def test_down_from_the_state_file_alone_stops_the_server(make_config):
    config = make_config({"api": {"command": app_command()}}, servers={"redis": redis_server()})
    state = Stack(config, "detached").up("sqlite", auto_ports=True, detach=True)

    report = Stack(config, "detached").down()  # another Stack: it knows only the state file

    assert report.ok, report.problems
    assert sorted(report.stopped) == ["api", "redis"]
    assert_nothing_left(state)


def test_a_missing_binary_names_what_to_install_and_starts_nothing(make_config):
    config = make_config(
        {"api": {"command": app_command(), "depends_on": ["mq"]}},
        servers={
            "mq": {
                "command": ["no-such-mq-server", "--port", "{port}"],
                "install_hint": "apt-get install no-such-mq",
            }
        },
    )
    stack = Stack(config, "missing")

    with pytest.raises(ServiceStartError) as caught:
        stack.up("sqlite", auto_ports=True)

    message = str(caught.value)
    assert message.startswith("server 'mq' failed to start: 'no-such-mq-server' is not installed")
    assert "apt-get install no-such-mq" in message
    assert not stack.run.path.exists()  # nothing claimed, nothing spawned
    assert not (config.run_dir / "ports").exists() or not list((config.run_dir / "ports").iterdir())


def test_a_missing_readiness_command_is_refused_the_same_way(make_config):
    config = make_config(
        {"api": {"command": app_command()}},
        servers={"redis": redis_server({"command": ["no-such-cli", "-p", "{port}"]})},
    )

    with pytest.raises(ServiceStartError, match=r"'no-such-cli' is not installed.*ready"):
        Stack(config, "missing-cli").up("sqlite", auto_ports=True)


def test_a_server_instance_of_its_own_restarts_on_its_port_and_leaves_the_runs_alone(
    make_config,
):
    config = make_config({"api": {"command": app_command()}}, servers={"redis": redis_server()})
    stack = Stack(config, "server-instance")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        own = stack.start_server_instance("redis", "redis-x")
        client = redis.Redis.from_url(own.url, socket_timeout=30)
        client.set("before", "1")
        assert own.port != state.servers["redis"].port
        assert own.log_path.endswith("redis-x.log")
        assert client.config_get("dir")["dir"] == str(stack.run.path / "servers" / "redis-x")

        stack.kill_instance(own)
        with pytest.raises(redis.ConnectionError):
            client.ping()
        again = stack.restart_server_instance(own)

        assert again.port == own.port and again.process.pid != own.process.pid
        assert client.get("before") is None  # a new process: no persistence, nothing kept
        again_after_term = stack.restart_server_instance(again)  # running: SIGTERM
        assert not again.process.matches() and client.ping()
        client.close()
        stack.stop_instance(again_after_term)
        assert is_port_free(own.port)
        assert redis.Redis.from_url(state.servers["redis"].url).ping()  # the run's, untouched
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


@contextlib.contextmanager
def taken(port: int) -> Iterator[None]:
    """Listen on `port` as another program would, once the kernel lets go of the
    connections of the process that had it (TIME_WAIT lasts up to a minute)."""
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + patience(120)
        while not _bound(squatter, port):
            assert time.monotonic() < deadline, f"port {port} never became free to take"
            time.sleep(0.1)
        squatter.listen()
        yield


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return False
    return True


def test_a_server_instance_whose_port_was_taken_says_why_and_leaves_nothing(make_config):
    config = make_config({"api": {"command": app_command()}}, servers={"redis": redis_server()})
    stack = Stack(config, "server-instance-port")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        own = stack.start_server_instance("redis", "redis-x")
        stack.kill_instance(own)
        failed = pytest.raises(ServiceStartError, match="server 'redis' failed to start")
        with taken(own.port), failed:  # another program took the port meanwhile
            stack.restart_server_instance(own)
    finally:
        report = stack.down()
    assert report.ok, report.problems  # the failed instance was stopped, nothing escaped
    assert_nothing_left(state)


def test_a_server_instance_of_an_unknown_server_is_a_clear_error(make_config):
    config = make_config({"api": {"command": app_command()}}, servers={"redis": redis_server()})
    stack = Stack(config, "server-instance-unknown")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        with pytest.raises(RunStateError, match=r"no server 'cache' in tool\.harness\.servers"):
            stack.start_server_instance("cache", "cache-x")
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_a_server_instance_left_running_is_stopped_by_down(make_config):
    config = make_config({"api": {"command": app_command()}}, servers={"redis": redis_server()})
    stack = Stack(config, "server-instance-left")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    own = stack.start_server_instance("redis", "redis-x")

    stack.down()

    assert not own.process.matches()
    assert is_port_free(own.port)
    assert_nothing_left(state)
