"""The invoke tasks with an auxiliary server (a real redis-server): up, status, logs, down
and a missing binary, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import command_toml, invoke, redis_server, write_pyproject
from harness.infra._ports import is_port_free


def server_toml(table: dict) -> str:
    lines = ["[tool.harness.servers.redis]"]
    for key, value in table.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    services = f'[tool.harness.services.api]\ncommand = {command_toml()}\ndepends_on = ["redis"]\n'
    write_pyproject(tmp_path, services + server_toml(redis_server()))
    return tmp_path


def test_up_status_logs_down_list_the_server_beside_the_services(project):
    up = invoke(project, "services.up", "--run", "cli", "--auto-ports")
    assert up.returncode == 0, up.stderr
    assert "ready     redis        redis://127.0.0.1:" in up.stdout
    try:
        status = invoke(project, "services.status", "--run", "cli")
        assert status.returncode == 0, status.stderr
        [row] = [line for line in status.stdout.splitlines() if line.startswith("redis ")]
        assert "redis://127.0.0.1:" in row and " yes " in row
        port = int(row.split()[2])

        logs = invoke(project, "services.logs", "--service", "redis", "--run", "cli")
        assert logs.returncode == 0, logs.stderr
        assert "Ready to accept connections" in logs.stdout
    finally:
        down = invoke(project, "services.down", "--run", "cli")
    assert down.returncode == 0, down.stderr
    assert "redis" in down.stdout
    assert is_port_free(port)


def test_a_missing_binary_is_one_screen_naming_the_package(tmp_path):
    table = {**redis_server(), "command": ["no-such-redis", "--port", "{port}"]}
    services = f"[tool.harness.services.api]\ncommand = {command_toml()}\n"
    write_pyproject(tmp_path, services + server_toml(table))

    up = invoke(tmp_path, "services.up", "--run", "missing", "--auto-ports")

    assert up.returncode == 1
    assert "Traceback" not in up.stderr
    assert "server 'redis' failed to start: 'no-such-redis' is not installed" in up.stderr
    assert "apt-get install redis-server" in up.stderr
    assert not (tmp_path / ".harness" / "runs" / "missing").exists()
