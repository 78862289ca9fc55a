"""The invoke tasks as a user runs them: exit codes and one-screen messages, no tracebacks."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from conftest import (
    assert_nothing_left,
    command_toml,
    interruptible,
    invoke,
    leaky_history,
    patience,
    write_pyproject,
)
from harness.infra._state import RunDirectory
from harness.settings import POSTGRES_URL_VARIABLE

ROOT = Path(__file__).parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_pyproject(tmp_path, f"[tool.harness.services.api]\ncommand = {command_toml()}\n")
    return tmp_path


def test_up_status_logs_restart_down_round_trip(project):
    up = invoke(project, "services.up", "--run", "cli", "--auto-ports")
    assert up.returncode == 0, up.stderr
    assert "run 'cli' up on sqlite" in up.stdout
    healthy = re.search(
        r"^healthy   api +http://127\.0\.0\.1:\d+  in \d+\.\d\d s$", up.stdout, re.M
    )
    assert healthy, up.stdout  # told as it happened, before the summary
    assert up.stdout.index(healthy.group(0)) < up.stdout.index("run 'cli' up")
    try:
        status = invoke(project, "services.status", "--run", "cli")
        assert status.returncode == 0, status.stderr
        assert "api" in status.stdout and " yes " in status.stdout

        again = invoke(project, "services.up", "--run", "cli", "--auto-ports")
        assert again.returncode == 1
        assert "already up" in again.stderr

        restart = invoke(project, "services.restart", "api", "--run", "cli")
        assert restart.returncode == 0, restart.stderr

        logs = invoke(project, "services.logs", "--service", "api", "--run", "cli")
        assert logs.returncode == 0
        assert "listening on" in logs.stdout

        every_log = invoke(project, "services.logs", "--run", "cli")  # --service is optional
        assert every_log.returncode == 0, every_log.stderr
        assert "api.log <==" in every_log.stdout
    finally:
        down = invoke(project, "services.down", "--run", "cli")
    assert down.returncode == 0, down.stderr
    assert "stopped api" in down.stdout
    assert invoke(project, "services.down", "--run", "cli").stdout.strip().endswith("nothing to do")
    assert invoke(project, "services.status", "--run", "cli").returncode == 1


def test_bad_config_exits_1_with_one_line_and_no_traceback(tmp_path):
    write_pyproject(tmp_path, "[tool.harness.services.api]\nport = 9000\n")

    result = invoke(tmp_path, "services.up")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "harness: tool.harness.services.api.command: missing; it must be a command: a non-empty "
        "list of strings, e.g. "
        '["{python}", "-m", "uvicorn", "app:app", "--port", "{port}"]'
    )


def test_a_failing_service_exits_1_naming_it_with_its_log(tmp_path):
    write_pyproject(tmp_path, f"[tool.harness.services.api]\ncommand = {command_toml('exit')}\n")

    result = invoke(tmp_path, "services.up", "--auto-ports")

    assert result.returncode == 1
    assert "service 'api' failed to start: it exited during start" in result.stderr
    assert "fatal: SETTING_X is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".harness" / "runs" / "default").exists()


def test_ports_clean_with_nothing_stale_says_so(project):
    result = invoke(project, "ports.clean")

    assert result.returncode == 0
    assert "nothing to clean" in result.stdout


def test_migrations_check_prints_each_check_and_exits_1_on_a_defect(tmp_path, monkeypatch):
    history = ROOT / "tests" / "fixtures" / "migrations" / "leftover_column"
    write_pyproject(
        tmp_path,
        f"[tool.harness.services.api]\ncommand = {command_toml()}\ndatabase = true\n"
        f'migrations = "{history}"\n',
    )
    # the history imports its fixtures and the reference's env.py body
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))

    result = invoke(tmp_path, "migrations.check", "--db", "sqlite")

    assert result.returncode == 1, result.stderr
    assert "FAILED   api:stairway[0002]" in result.stdout
    assert "column items.note: only after" in result.stdout
    assert "PASSED   api:stairway[0001]" in result.stdout
    assert "1 failed" in result.stdout and "Traceback" not in result.stderr
    assert not (tmp_path / ".harness" / "runs").exists() or not any(
        (tmp_path / ".harness" / "runs").iterdir()
    )


def test_up_with_keep_outlives_the_process_that_ran_it(project):
    shell = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m invoke services.up --run kept --auto-ports --keep"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    try:
        state = RunDirectory(project / ".harness" / "runs", "kept").load()
        assert state.owner is None and state.reaper is None
        assert invoke(project, "services.status", "--run", "kept").returncode == 0
    finally:
        down = invoke(project, "services.down", "--run", "kept")
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state)


def test_down_that_cannot_drop_the_database_says_so_and_down_again_finishes(
    tmp_path, server, monkeypatch
):
    write_pyproject(
        tmp_path, f"[tool.harness.services.api]\ncommand = {command_toml()}\ndatabase = true\n"
    )
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    assert (
        invoke(
            tmp_path, "services.up", "--db", "postgres", "--run", "owe", "--auto-ports"
        ).returncode
        == 0
    )
    monkeypatch.delenv(POSTGRES_URL_VARIABLE)

    first = invoke(tmp_path, "services.down", "--run", "owe")

    assert first.returncode == 1
    assert "run 'owe' stopped, still owing what is below: stopped api" in first.stdout
    assert f"{POSTGRES_URL_VARIABLE} is not set in this shell" in first.stderr
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    second = invoke(tmp_path, "services.down", "--run", "owe")
    assert second.returncode == 0, second.stderr
    assert "run 'owe' down" in second.stdout
    assert not (tmp_path / ".harness" / "runs" / "owe").exists()


def test_an_error_holding_the_database_url_exits_with_its_password_masked(
    tmp_path, server, monkeypatch
):
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, server)
    password = make_url(server).password
    assert password
    history = leaky_history(tmp_path / "history")
    write_pyproject(
        tmp_path,
        f"[tool.harness.services.api]\ncommand = {command_toml()}\ndatabase = true\n"
        f'migrations = "{history}"\n',
    )

    result = invoke(tmp_path, "services.up", "--db", "postgres", "--auto-ports")

    assert result.returncode == 1
    assert password not in result.stdout + result.stderr
    assert "cannot migrate postgresql+psycopg://postgres:***@127.0.0.1:" in result.stderr


def test_a_run_dir_outside_the_project_exits_1_with_one_line_and_writes_nothing(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_pyproject(
        project,
        f'run_dir = "../elsewhere"\n[tool.harness.services.api]\ncommand = {command_toml()}\n',
    )

    result = invoke(project, "services.up", "--auto-ports")

    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        "harness: tool.harness.run_dir: '../elsewhere' ("
    ) and result.stderr.strip().endswith(
        "tool.harness.run_dir_outside_project = true to keep runs there on purpose"
    )
    assert "\n" not in result.stderr.strip()
    assert not (tmp_path / "elsewhere").exists()


def test_logs_follow_masks_a_password_a_service_logs(project):
    assert invoke(project, "services.up", "--run", "follow", "--auto-ports").returncode == 0
    log = project / ".harness" / "runs" / "follow" / "logs" / "api.log"
    follower = interruptible(
        ["invoke", "services.logs", "--service", "api", "--run", "follow", "--follow"], project
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in follower.stdout], daemon=True
    ).start()
    seen: list[str] = []
    try:
        for _ in range(120):  # appended until the follower shows it: no guess at its speed
            with log.open("a") as file:
                file.write("connecting to postgresql://app:hunter2@db:5432/x\n")
            with contextlib.suppress(queue.Empty):
                while True:
                    seen.append(lines.get(timeout=0.5))
            if any(line.startswith("api: connecting to") for line in seen):
                break
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=patience(60))
        assert invoke(project, "services.down", "--run", "follow").returncode == 0
    followed = [line for line in seen if line.startswith("api: connecting to")]
    assert followed and all("hunter2" not in line for line in seen), seen[:5]
    assert followed[0].strip() == "api: connecting to postgresql://app:***@db:5432/x"
