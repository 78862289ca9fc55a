"""harness.stack._reaper: the watchdog that takes a run down when its owner dies."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from conftest import app_command, assert_nothing_left, pid_alive
from harness.exceptions import RunStateError
from harness.infra._processes import ProcessRecord, stop_group, wait_exited
from harness.stack._reaper import reap, start_reaper
from harness.stack._stack import Stack


def test_an_owner_that_has_already_exited_is_refused(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    record = ProcessRecord.of(gone.pid)
    gone.wait()

    with pytest.raises(RunStateError, match=f"its owner \\(pid {gone.pid}\\) has already exited"):
        start_reaper(tmp_path, "r", "token", record, tmp_path / "reaper.log", tmp_path)


def test_the_reaper_of_a_run_replaced_since_leaves_the_new_run_alone(make_config):
    config = make_config({"api": {"command": app_command()}})
    stack = Stack(config, "replaced")
    state = stack.up("sqlite", auto_ports=True, detach=True)
    try:
        assert reap(str(config.run_dir), "replaced", "an-older-token") == 0
        assert state.services["api"].process.matches()
        assert stack.run.load().token == state.token
    finally:
        assert stack.down().ok
    assert_nothing_left(state)


def test_a_reaper_waits_while_its_owner_lives_and_is_stopped_by_down(make_config):
    config = make_config({"api": {"command": app_command()}})
    stack = Stack(config, "watched")
    state = stack.up("sqlite", auto_ports=True)
    assert state.reaper is not None and state.reaper.matches()

    assert stack.down().ok

    assert not pid_alive(state.reaper.pid)
    assert_nothing_left(state)


def test_a_reaper_whose_owner_dies_with_no_run_left_just_exits(tmp_path):
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        reaper = start_reaper(
            tmp_path, "r", "t", ProcessRecord.of(owner.pid), tmp_path / "reaper.log", tmp_path
        )
        assert reaper is not None
        owner.kill()
        owner.wait()
        assert wait_exited(psutil.Process(reaper.pid), timeout=120)  # no run: nothing to do
        assert not stop_group(reaper, grace=1)  # gone, so nothing is signalled
    finally:
        owner.kill()
        owner.wait()
