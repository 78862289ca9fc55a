"""[tool.harness.servers]: auxiliary servers; every mistake is one line naming the key."""

from __future__ import annotations

import pytest

from conftest import app_command, config_error
from harness.config._project import parse_config
from harness.config._servers import Readiness

SERVICE = {"command": app_command()}
REDIS = {
    "command": ["redis-server", "--port", "{port}", "--dir", "{dir}"],
    "ready": {"command": ["redis-cli", "-p", "{port}", "ping"]},
    "url": "redis://127.0.0.1:{port}",
    "install_hint": "apt-get install redis-server",
}


@pytest.mark.parametrize(
    "servers, services, key, hint",
    [
        (
            {"redis": {**REDIS, "comand": ["x"]}},
            {},
            "tool.harness.servers.redis.comand",
            "did you mean 'command'",
        ),
        ({"redis": {"port": 6390}}, {}, "tool.harness.servers.redis.command", "missing"),
        (
            {"redis": {**REDIS, "command": ["redis-server"]}},
            {},
            "tool.harness.servers.redis.command",
            "{port}",
        ),
        (
            {"redis": {**REDIS, "ready": {"tcp": True, "log": "Ready"}}},
            {},
            "tool.harness.servers.redis.ready",
            "must be one of {tcp = true}",
        ),
        (
            {"redis": {**REDIS, "ready": {"logs": "Ready"}}},
            {},
            "tool.harness.servers.redis.ready.logs",
            "did you mean 'log'",
        ),
        (
            {"redis": {**REDIS, "ready": {"tcp": "yes"}}},
            {},
            "tool.harness.servers.redis.ready.tcp",
            "must be true",
        ),
        (
            {"redis": {**REDIS, "ready": {"command": "redis-cli ping"}}},
            {},
            "tool.harness.servers.redis.ready.command",
            "list of strings",
        ),
        (
            {"redis": {**REDIS, "ready": {"log": ""}}},
            {},
            "tool.harness.servers.redis.ready.log",
            "the line",
        ),
        ({"redis": {**REDIS, "port": 80}}, {}, "tool.harness.servers.redis.port", "1024"),
        (
            {"redis": {**REDIS, "install_hint": ""}},
            {},
            "tool.harness.servers.redis.install_hint",
            "apt-get install",
        ),
        (
            {"redis": {**REDIS, "depends_on": ["a"]}},
            {},
            "tool.harness.servers.redis.depends_on",
            "'a' is a service; a server may depend only on servers",
        ),
        (
            {"redis": {**REDIS, "depends_on": ["sentinel"]}, "sentinal": REDIS},
            {},
            "tool.harness.servers.redis.depends_on",
            "did you mean 'sentinal'",
        ),
        (
            {"one": {**REDIS, "depends_on": ["two"]}, "two": {**REDIS, "depends_on": ["one"]}},
            {},
            "tool.harness.servers.one.depends_on",
            "cycle one -> two -> one",
        ),
        ({"a": REDIS}, {}, "tool.harness.servers.a", "already a service"),
        (
            {"redis": REDIS},
            {"b": {**SERVICE, "depends_on": ["rediss"]}},
            "tool.harness.services.b.depends_on",
            "unknown service or server 'rediss'; did you mean 'redis'",
        ),
        (
            {"redis": {**REDIS, "port": 6390}},
            {"b": {**SERVICE, "port": 6390}},
            "tool.harness.servers.redis.port",
            "already the port of 'b'",
        ),
        ("redis", {}, "tool.harness.servers", "a table"),
    ],
)
def test_a_bad_server_is_one_line_naming_its_key(tmp_path, servers, services, key, hint):
    table = {"services": {"a": SERVICE, **services}, "servers": servers}

    message = config_error(table, tmp_path)

    assert message.startswith(key + ":") or message.startswith(key + " "), message
    assert hint in message


def test_a_server_is_read_with_its_defaults_and_services_may_depend_on_it(tmp_path):
    config = parse_config(
        {
            "stop_timeout": 2,
            "services": {"a": {**SERVICE, "depends_on": ["cache"]}},
            "servers": {
                "cache": {"command": ["redis-server", "--port", "{port}"]},
                "redis": REDIS,
                "mail": {"command": ["mailsink", "{port}"], "ready": {"log": "listening"}},
            },
        },
        root=tmp_path,
    )

    cache = config.servers["cache"]
    assert cache.ready == Readiness("tcp")
    assert cache.url == "tcp://127.0.0.1:{port}"
    assert (cache.port, cache.install_hint, cache.stop_timeout) == (None, None, 2.0)
    assert cache.url_variable == "CACHE_URL"
    assert config.servers["redis"].ready == Readiness(
        "command", command=("redis-cli", "-p", "{port}", "ping")
    )
    assert config.servers["mail"].ready == Readiness("log", log_line="listening")
    assert config.start_order() == [["a"]]  # servers are not in the services' levels


def test_no_servers_table_means_none(tmp_path):
    assert parse_config({"services": {"a": SERVICE}}, root=tmp_path).servers == {}
