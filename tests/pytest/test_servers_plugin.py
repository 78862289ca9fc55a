"""The servers' fixtures (`harness.pytest.servers`) against a real redis-server the plugin's
own stack starts: `server_urls`, and `redis`, a flushed logical database per test/worker."""

from __future__ import annotations

import json

import redis as redis_client

from conftest import app_command, redis_server
from harness.config._project import parse_config
from harness.infra._ports import is_port_free
from harness.stack._stack import Stack

TESTS = """
import json, os, pathlib

def test_first(redis, server_urls):
    assert redis.dbsize() == 0
    redis.set("left-by-first", "1")
    info = {"db": redis.connection_pool.connection_kwargs["db"], "url": server_urls["redis"]}
    pathlib.Path(f"first-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json").write_text(
        json.dumps(info)
    )

def test_second(redis):
    assert redis.get("left-by-first") is None  # flushed, or another database
    redis.set("left-by-second", "2")
    pathlib.Path(f"second-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json").write_text(
        json.dumps({"db": redis.connection_pool.connection_kwargs["db"]})
    )
"""


def toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_project(pytester, servers: dict) -> None:
    lines = ["[tool.harness]", "stop_timeout = 2", "[tool.harness.services.api]"]
    lines.append(f"command = {json.dumps(app_command())}")
    lines.append('depends_on = ["redis"]' if "redis" in servers else "")
    for name, table in servers.items():
        lines.append(f"[tool.harness.servers.{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    pytester.makefile(".toml", pyproject="\n".join(lines) + "\n")
    pytester.makepyfile(test_redis=TESTS)


def test_each_test_gets_an_empty_database_and_the_server_is_taken_down(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_project(pytester, {"redis": redis_server()})

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=2)
    first = json.loads((pytester.path / "first-main.json").read_text())
    second = json.loads((pytester.path / "second-main.json").read_text())
    assert first["db"] == second["db"] == 1  # database 0 is the services'
    assert first["url"].startswith("redis://127.0.0.1:")
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []


def test_two_xdist_workers_on_one_server_get_different_databases(pytester, monkeypatch):
    write_project(pytester, {"redis": redis_server()})
    services = {"api": {"command": app_command(), "depends_on": ["redis"]}}
    config = parse_config(
        {"services": services, "servers": {"redis": redis_server()}}, root=pytester.path
    )
    stack = Stack(config, "shared")  # one stack for both workers, as the Nox sessions run it
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        monkeypatch.setenv("HARNESS_RUN", "shared")

        result = pytester.runpytest_subprocess("-n", "2", "--dist", "each")

        result.assert_outcomes(passed=4)
        firsts = [json.loads(path.read_text()) for path in pytester.path.glob("first-gw*.json")]
        assert {first["url"] for first in firsts} == {state.servers["redis"].url}
        assert sorted(first["db"] for first in firsts) == [1, 2]
        for db in (1, 2):  # each flushed after its tests
            with redis_client.Redis.from_url(state.servers["redis"].url, db=db) as client:
                assert client.dbsize() == 0
    finally:
        assert stack.down().ok


def test_no_redis_server_is_one_line(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_project(pytester, {})

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*harness: the redis fixture needs one Redis server*"])


def test_a_server_instance_is_the_tests_own_and_is_stopped_after_it(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_project(pytester, {"redis": redis_server()})
    pytester.makepyfile(
        test_redis="""
import pathlib
import redis

def test_own(server_instance, server_urls):
    url = server_instance("redis")
    assert url != server_urls["redis"]
    redis.Redis.from_url(url).set("key", "1")
    server_instance.restart(url)
    assert redis.Redis.from_url(url).get("key") is None  # started again, nothing kept
    pathlib.Path("own.txt").write_text(url)
"""
    )

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=1)
    port = int((pytester.path / "own.txt").read_text().rsplit(":", 1)[1])
    assert is_port_free(port)
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []
