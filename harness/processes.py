"""One process harness starts: spawn it in its own process group, wait for health, stop it.

A process is only ever signalled when its pid, start time and command line all still match
what harness recorded (`ProcessRecord.matches`), so a recycled pid is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from harness.exceptions import ServiceStartError
from harness.masking import mask_secrets

RUN_TOKEN_VARIABLE = "HARNESS_RUN_TOKEN"
LOG_TAIL_LINES = 20
CMDLINE_WAIT = 2.0


@dataclass(frozen=True)
class ProcessRecord:
    """What identifies a process across pid reuse: pid, start time, command line.

    The start time is seconds since boot, not since the epoch: the epoch-based value
    shifts whenever the wall clock is stepped, and would then disown our own processes.
    """

    pid: int
    started: float
    cmdline: tuple[str, ...]

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        """Record a running process.

        Right after a fork/exec, /proc may still show an empty command line for a moment
        (seen under load); recording that would disown the process later, so wait it out.
        """
        process = psutil.Process(pid)
        deadline = time.monotonic() + CMDLINE_WAIT
        cmdline: list[str] = []
        with contextlib.suppress(psutil.ZombieProcess):
            cmdline = process.cmdline()
            while not cmdline and time.monotonic() < deadline:
                time.sleep(0.001)
                cmdline = process.cmdline()
        return cls(pid, _started(process), tuple(cmdline))

    def uptime(self) -> float:
        """Seconds the process has been running."""
        return time.clock_gettime(time.CLOCK_BOOTTIME) - self.started

    def matches(self) -> bool:
        """True while the recorded process is still the one running under this pid."""
        try:
            process = psutil.Process(self.pid)
            return (
                bool(self.cmdline)
                and process.status() != psutil.STATUS_ZOMBIE
                and abs(_started(process) - self.started) < 1e-6
                and tuple(process.cmdline()) == self.cmdline
            )
        except psutil.Error:
            return False


def _started(process: psutil.Process) -> float:
    """Start time in seconds since boot, from /proc (fixed at fork, unmoved by clock steps)."""
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text()
    except FileNotFoundError:
        raise psutil.NoSuchProcess(process.pid) from None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
    return ticks / os.sysconf("SC_CLK_TCK")


def spawn(
    command: Sequence[str],
    env: dict[str, str],
    log_path: Path,
    cwd: Path,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` as the leader of a new session, output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file (passwords masked), or '' when there is none."""
    try:
        with open(log_path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 16_384))
            text = file.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return mask_secrets("\n".join(text.splitlines()[-lines:]))


def wait_healthy(
    name: str,
    process: subprocess.Popen[bytes],
    url: str,
    timeout: float,
    log_path: Path,
    cancelled: threading.Event,
) -> None:
    """Poll `url` (10 ms, backing off to 50 ms; at most 1 s a request) until it answers 200.

    Fails fast with `ServiceStartError` when the process exits, and at the deadline;
    returns early once `cancelled` is set (another service failed, or we were interrupted).
    """
    deadline = time.monotonic() + timeout
    delay = 0.01
    last_problem = "no answer yet"
    with httpx.Client(trust_env=False) as client:
        while not cancelled.is_set():
            exit_code = process.poll()
            if exit_code is not None:
                raise ServiceStartError(
                    name, "it exited during start", exit_code, log_tail(log_path)
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServiceStartError(
                    name,
                    f"not healthy after {timeout:g} s at {url} ({last_problem}); "
                    "raise start_timeout if it is only slow",
                    log_tail=log_tail(log_path),
                )
            try:
                response = client.get(url, timeout=min(1.0, max(remaining, 0.01)))
                if response.status_code == 200:
                    return
                last_problem = f"last answer: HTTP {response.status_code}"
            except httpx.TransportError as exc:
                last_problem = f"last error: {exc.__class__.__name__}"
            cancelled.wait(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 1.5, 0.05)


def stop_group(
    record: ProcessRecord,
    grace: float,
    signals: Sequence[int] = (signal.SIGTERM,),
) -> bool:
    """Send each of `signals` to the recorded process group in turn, then SIGKILL.

    The first signal gets `grace` seconds, each later one a second. Returns False (and
    signals nothing) when the pid no longer belongs to the recorded process: it already
    ended, or the pid was reused by another program.
    """
    if not record.matches():
        return False
    process = psutil.Process(record.pid)
    for index, signal_number in enumerate(signals):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal_number)
        if wait_exited(process, timeout=grace if index == 0 else 1.0):
            break
    # The group id outlives its leader while members remain, and Linux does not hand
    # out a pid still in use as a group id, so this reaches only our stragglers.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGKILL)
    wait_exited(process, timeout=5)
    return True


def wait_exited(process: psutil.Process, timeout: float) -> bool:
    """Wait until `process` has exited; True if it did within `timeout` seconds.

    A zombie counts as exited. A service started by an earlier `invoke services.up` is
    not our child, so its zombie waits for init to reap it, which some init processes
    do only every few seconds; psutil's wait would sit out the whole grace period.
    Our own children are reaped here.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            process.wait(timeout=0)
            return True
        except psutil.TimeoutExpired:
            pass
        except (psutil.NoSuchProcess, ChildProcessError):
            return True
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def tagged_processes(token: str) -> list[psutil.Process]:
    """Processes whose environment carries this run's token (escaped grandchildren included)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get(RUN_TOKEN_VARIABLE) == token:
                found.append(process)
    return found


def kill_tagged(token: str) -> list[int]:
    """SIGKILL every process still carrying this run's token; their pids."""
    processes = tagged_processes(token)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=5)
    return [process.pid for process in processes]
