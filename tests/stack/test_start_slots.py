"""Start slots: at most one starting service per CPU, the longest chain of waiting services
first, and a slot given back by a service that waits without using the CPU."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import app_command, patience
from harness import infra
from harness.config import parse_config
from harness.stack import Stack
from harness.stack._events import ServiceSpawned
from harness.stack._start_slots import StartSlots

SERVICE = {"command": ["app", "{port}"]}


def test_servers_first_then_the_longest_chain_waiting_then_the_deepest(tmp_path):
    config = parse_config(
        {
            "services": {
                "leaf": SERVICE,
                "tail": {**SERVICE, "depends_on": ["middle"]},
                "middle": {**SERVICE, "depends_on": ["head"]},
                "head": SERVICE,
                "side": {**SERVICE, "depends_on": ["head"]},
            },
            "servers": {"cache": {"command": ["cache", "{port}"]}},
        },
        root=tmp_path,
    )
    slots = StartSlots(config, cpus=2)

    order = slots.first(["leaf", "tail", "middle", "head", "side", "cache"])

    assert order[:3] == ["cache", "head", "middle"]
    assert order[3:5] == ["side", "tail"] or order[3:5] == ["tail", "side"]
    assert order.index("tail") < order.index("leaf")  # as long a chain, but deeper
    assert order.index("side") < order.index("leaf")


@pytest.fixture
def sleeper():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.kill()
    process.wait()


def test_a_slot_is_taken_at_start_and_given_back_once_the_service_uses_no_cpu(sleeper, tmp_path):
    slots = StartSlots(parse_config({"services": {"a": SERVICE}}, root=tmp_path), cpus=1)
    slots.take("a", sleeper.pid)

    assert not slots.free()  # just started: counted
    deadline = time.monotonic() + patience(60)  # a hang guard, not a pace
    while not slots.free() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert slots.free()  # asleep: its slot is back


def test_a_slot_is_given_back_when_the_service_is_healthy_or_gone(sleeper, tmp_path):
    slots = StartSlots(parse_config({"services": {"a": SERVICE}}, root=tmp_path), cpus=1)
    slots.take("a", sleeper.pid)
    slots.give_back("a")
    assert slots.free()

    slots.take("a", sleeper.pid)
    sleeper.kill()
    sleeper.wait()
    assert slots.free()


def test_with_one_cpu_the_head_of_the_longest_chain_is_spawned_first(make_config, monkeypatch):
    monkeypatch.setattr(infra, "usable_cpus", lambda: 1.0)
    config = make_config(  # by name, and by dependency level, the head would come last
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "beta": {"command": app_command("healthy", "--name", "beta")},
            "dependant": {"command": app_command("healthy"), "depends_on": ["zeta"]},
            "zeta": {"command": app_command("healthy", "--name", "zeta")},
        }
    )
    spawned: list[str] = []
    stack = Stack(
        config, "slots", [lambda e: spawned.append(e.name) if isinstance(e, ServiceSpawned) else 0]
    )
    stack.up("sqlite", auto_ports=True)
    stack.down()

    assert spawned[0] == "zeta"
    assert sorted(spawned) == ["alpha", "beta", "dependant", "zeta"]
