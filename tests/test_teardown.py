"""harness.teardown: the lines a Ctrl-C gets during teardown, and hurrying a stop."""

from __future__ import annotations

import sys
import threading

from conftest import pid_alive
from harness.processes import ProcessRecord, spawn
from harness.state import ServiceRecord
from harness.teardown import Remaining, Teardown, stop_service


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
