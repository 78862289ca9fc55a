"""harness.stack._teardown: the lines a Ctrl-C gets during teardown, and hurrying a stop."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from conftest import app_command, assert_nothing_left, pid_alive
from harness.infra._processes import ProcessRecord, spawn
from harness.infra._state import ServiceRecord
from harness.stack._stack import Stack
from harness.stack._teardown import Remaining, Teardown, stop_service


def test_the_first_interrupt_says_what_is_left_and_a_later_one_hurries(capfd):
    left = Remaining("r1", ["alpha", "beta", "database"])
    left.done("beta")

    left.interrupted(1)
    assert not left.hurry.is_set()
    left.interrupted(2)

    lines = capfd.readouterr().err.splitlines()
    assert lines == [
        "harness: taking run 'r1' down, waiting for: alpha, database (Ctrl-C again: kill now)",
        "harness: killing what is left of run 'r1' now: alpha, database",
    ]
    assert left.hurry.is_set()


def test_hurry_cuts_a_long_grace_short_and_the_service_is_killed(tmp_path):
    command = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(15, signal.SIG_IGN); time.sleep(600)",
    ]
    process = spawn(command, {}, tmp_path / "stubborn.log", cwd=tmp_path)
    record = ServiceRecord(
        "stubborn", ProcessRecord.of(process.pid), 0, "", "", "", stop_timeout=600
    )
    report = Teardown("r")
    hurry = threading.Event()
    stopping = threading.Thread(target=stop_service, args=(record, report, hurry))
    stopping.start()

    hurry.set()
    stopping.join(timeout=120)

    assert not stopping.is_alive()
    assert report.stopped == ["stubborn"]
    assert not pid_alive(process.pid)


def test_a_service_stops_once_its_dependants_have_and_an_unrelated_one_waits_for_none(
    make_config,
):
    """base waits for its dependant to stop (which ignores SIGTERM for a long grace, until
    the test kills it); other, which nothing depends on, stops at once meanwhile."""
    config = make_config(
        {
            "base": {"command": app_command("healthy", "--name", "base")},
            "stubborn": {
                "command": app_command("ignore-term", "--name", "stubborn"),
                "depends_on": ["base"],
                "stop_timeout": 120,
            },
            "other": {"command": app_command("healthy", "--name", "other")},
        }
    )
    stack = Stack(config, "stop-order")
    state = stack.up("sqlite", auto_ports=True)
    services = state.services
    stopping = threading.Thread(target=lambda: reports.append(stack.down()))
    reports: list[Teardown] = []
    stopping.start()

    deadline = time.monotonic() + 60  # against a hang only
    while pid_alive(services["other"].process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(services["other"].process.pid)
    assert pid_alive(services["stubborn"].process.pid)  # in its grace ...
    assert pid_alive(services["base"].process.pid)  # ... so what it depends on still runs
    os.kill(services["stubborn"].process.pid, signal.SIGKILL)
    stopping.join(timeout=60)

    assert reports and reports[0].ok, reports
    assert reports[0].stopped.index("stubborn") < reports[0].stopped.index("base")
    assert_nothing_left(state)
