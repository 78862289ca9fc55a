"""Process identity and stopping, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from conftest import pid_alive
from harness.infra._processes import (
    ProcessRecord,
    _ExitNotice,
    log_tail,
    spawn,
    stop_group,
    wait_exited,
)


def test_a_process_is_recorded_with_its_full_command_line_right_after_spawn(tmp_path):
    command = [sys.executable, "-c", "import time; time.sleep(30)", "marker"]
    records = []
    try:
        for _ in range(20):
            process = spawn(command, {}, tmp_path / "sleep.log", cwd=tmp_path)
            records.append(ProcessRecord.of(process.pid))
        assert all(record.cmdline == tuple(command) for record in records)
        assert all(record.matches() for record in records)
    finally:
        for record in records:
            stop_group(record, grace=1)
    assert not any(pid_alive(record.pid) for record in records)


def test_a_record_without_command_line_or_with_another_start_time_never_matches(tmp_path):
    process = spawn(
        [sys.executable, "-c", "import time; time.sleep(30)"], {}, tmp_path / "log", cwd=tmp_path
    )
    record = ProcessRecord.of(process.pid)
    try:
        assert not ProcessRecord(record.pid, record.started, ()).matches()
        assert not ProcessRecord(record.pid, record.started + 1, record.cmdline).matches()
        assert not stop_group(ProcessRecord(record.pid, record.started - 1, record.cmdline), 1)
        assert pid_alive(record.pid)
    finally:
        assert stop_group(record, grace=1)
    assert not record.matches()


def test_stop_escalates_through_the_given_signals_to_sigkill(tmp_path):
    ignores_everything = (
        "import signal, time\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "stubborn.log"
    process = spawn([sys.executable, "-c", ignores_everything], {}, log, cwd=tmp_path)
    record = ProcessRecord.of(process.pid)
    while "ready" not in log_tail(log):
        pass

    assert stop_group(record, grace=0.2, signals=(signal.SIGINT, signal.SIGQUIT))

    assert not pid_alive(record.pid)  # it ignores the others and sleeps 60 s: only SIGKILL ends it


def test_log_tail_gives_the_last_lines(tmp_path):
    log = tmp_path / "service.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))

    assert log_tail(log, 3) == "line 97\nline 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""


def test_log_tail_masks_a_password_a_service_logged(tmp_path):
    log = tmp_path / "service.log"
    log.write_text("connecting to postgresql+psycopg://postgres:hunter2@127.0.0.1:5432/x\n")

    assert log_tail(log) == "connecting to postgresql+psycopg://postgres:***@127.0.0.1:5432/x"


PARENT_THAT_NEVER_REAPS = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "pass"])
print(child.pid, flush=True)
time.sleep(30)
"""


def test_a_zombie_that_is_not_our_child_counts_as_exited():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_THAT_NEVER_REAPS], stdout=subprocess.PIPE, text=True
    )
    try:
        zombie = psutil.Process(int(parent.stdout.readline()))
        while zombie.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)

        assert wait_exited(zombie, timeout=30) is True
        assert zombie.status() == psutil.STATUS_ZOMBIE  # still unreaped: only its parent can
    finally:
        parent.kill()
        parent.wait()


def test_wait_exited_reaps_our_own_child_and_times_out_on_a_live_one(tmp_path):
    alive = spawn(
        [sys.executable, "-c", "import time; time.sleep(30)"], {}, tmp_path / "a", cwd=tmp_path
    )
    done = spawn([sys.executable, "-c", "pass"], {}, tmp_path / "b", cwd=tmp_path)
    try:
        assert wait_exited(psutil.Process(alive.pid), timeout=0.2) is False
        assert wait_exited(psutil.Process(done.pid), timeout=30) is True
        assert not psutil.pid_exists(done.pid)  # reaped, not left a zombie
    finally:
        alive.kill()
        alive.wait()


def test_the_end_of_a_process_is_noticed_on_its_pidfd(tmp_path):
    waiting = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    with _ExitNotice(waiting.pid) as notice:
        assert notice.fd >= 0  # this kernel has pidfds
        notice.wait(0)
        assert notice.fd >= 0  # not readable while the process runs
        waiting.stdin.close()
        notice.wait(120)
        assert notice.fd < 0  # readable at its end, then closed: a later wait naps
    assert wait_exited(psutil.Process(waiting.pid), timeout=30) is True


def test_a_process_already_gone_gets_no_pidfd_and_its_wait_naps(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names nothing now
    with _ExitNotice(gone.pid) as notice:
        assert notice.fd < 0
        notice.wait(0.01)
        assert notice.fd < 0


def test_a_pidfd_numbered_past_1023_is_waited_on_too():
    """select() cannot watch a descriptor past 1023; a process with many files open (a long
    test session's sockets) gets pidfds numbered there."""
    fillers = []
    try:
        while not fillers or fillers[-1] < 1100:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        waiting = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
        )
        with _ExitNotice(waiting.pid) as notice:
            assert notice.fd > 1023
            waiting.stdin.close()
            notice.wait(120)
            assert notice.fd < 0  # its end was seen on the pidfd
        waiting.wait()
    finally:
        for fd in fillers:
            os.close(fd)
