"""One process harness starts: spawn it in its own process group, stop it (its readiness
wait is `_readiness`).

A process is only ever signalled when its pid and start time still match what harness
recorded (`ProcessRecord.matches`), so a recycled pid is never touched.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from harness.exceptions import ServiceStartError
from harness.infra._masking import mask_secrets
from harness.settings import RUN_TOKEN_VARIABLE

LOG_TAIL_LINES = 20
CMDLINE_WAIT = 2.0
EXIT_POLL = 0.01  # between looks at a process's end, where it has no pidfd
HURRY_CHECK = 0.05  # at most this long between looks at `hurry`


@dataclass(frozen=True)
class ProcessRecord:
    """What identifies a process across pid reuse: pid and start time (and, for messages,
    the command line it was started with).

    The start time is seconds since boot, not since the epoch: the epoch-based value
    shifts whenever the wall clock is stepped, and would then disown our own processes.
    It is fixed at fork, so it also survives an `exec` (`sh -c '… && exec uvicorn …'`),
    which changes the command line: identity never hangs on the command line.
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
        """True while the recorded process is still the one running under this pid.

        A record without a command line was never a complete one, and matches nothing.
        """
        try:
            process = psutil.Process(self.pid)
            return (
                bool(self.cmdline)
                and process.status() != psutil.STATUS_ZOMBIE
                and abs(_started(process) - self.started) < 1e-6
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
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start `command` as the leader of a new session, output appended to `log_path`;
    `pass_fds` stay open in it."""
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
            pass_fds=tuple(pass_fds),
        )


def run_step(
    name: str,
    command: Sequence[str],
    env: dict[str, str],
    log_path: Path,
    cwd: Path,
    timeout: float,
) -> None:
    """Run one of service `name`'s one-off steps (seed data, an admin user) to its end in a
    process group of its own, output appended to the service's log; ServiceStartError
    when it cannot run, fails, or is still running after `timeout` seconds (then killed)."""
    label = shlex.join(command)
    try:
        process = spawn(command, env, log_path, cwd)
    except OSError as exc:
        raise ServiceStartError(
            name,
            f"cannot run its prestart step {command[0]!r}: {exc.strerror}; check "
            f"tool.harness.services.{name}.prestart",
        ) from None
    try:
        exit_code: int | None = process.wait(timeout)
    except subprocess.TimeoutExpired:
        exit_code = None
    finally:
        if process.poll() is None:  # timed out, or we were interrupted
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if exit_code is None:
        raise ServiceStartError(
            name,
            f"its prestart step `{label}` still ran after {timeout:g} s",
            None,
            log_tail(log_path),
        )
    if exit_code != 0:
        raise ServiceStartError(
            name, f"its prestart step `{label}` failed", exit_code, log_tail(log_path)
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


def stop_group(
    record: ProcessRecord,
    grace: float,
    signals: Sequence[int] = (signal.SIGTERM,),
    hurry: threading.Event | None = None,
) -> bool:
    """Send each of `signals` to the recorded process group in turn, then SIGKILL.

    The first signal gets `grace` seconds, each later one a second; once `hurry` is set,
    none waits any longer. Returns False (and signals nothing) when the pid no longer
    belongs to the recorded process: it already ended, or the pid was reused.
    """
    if not record.matches():
        return False
    process = psutil.Process(record.pid)
    for index, signal_number in enumerate(signals):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal_number)
        if wait_exited(process, timeout=grace if index == 0 else 1.0, hurry=hurry):
            break
    # The group id outlives its leader while members remain, and Linux does not hand
    # out a pid still in use as a group id, so this reaches only our stragglers.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGKILL)
    wait_exited(process, timeout=5)
    return True


def wait_exited(
    process: psutil.Process, timeout: float, hurry: threading.Event | None = None
) -> bool:
    """Wait until `process` has exited; True if it did within `timeout` seconds.

    A zombie counts as exited. A service started by an earlier `invoke services.up` is
    not our child, so its zombie waits for init to reap it, which some init processes
    do only every few seconds; psutil's wait would sit out the whole grace period.
    Our own children are reaped here. Once `hurry` is set it stops waiting.
    """
    deadline = time.monotonic() + timeout
    with _ExitNotice(process.pid) as notice:
        while not _exited(process):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (hurry is not None and hurry.is_set()):
                return False
            notice.wait(min(remaining, HURRY_CHECK))
    return True


def _exited(process: psutil.Process) -> bool:
    """Whether `process` has ended (reaped here if it is our child, or a zombie)."""
    try:
        process.wait(timeout=0)
        return True
    except psutil.TimeoutExpired:
        pass
    except (psutil.NoSuchProcess, ChildProcessError):
        return True
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class _ExitNotice:
    """Waits for a process to end on its pidfd, which turns readable the moment it does;
    in short naps where there is no pidfd (a kernel before 5.3, or the process gone)."""

    def __init__(self, pid: int) -> None:
        self.fd = -1
        self._poller = select.poll()  # not select(): a pidfd past 1023 is out of its range
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                self.fd = os.pidfd_open(pid)
                self._poller.register(self.fd, select.POLLIN)

    def __enter__(self) -> _ExitNotice:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._close()

    def wait(self, seconds: float) -> None:
        """Return once the process has ended, or after `seconds` at most."""
        if self.fd < 0:
            time.sleep(min(seconds, EXIT_POLL))
            return
        if self._poller.poll(seconds * 1000):  # it stays readable: later waits nap, not spin
            self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def processes_carrying(variable: str, value: str) -> list[psutil.Process]:
    """Living processes (this one aside) whose environment has `variable` set to `value`.

    A zombie's environment cannot be read, so zombies are never among them; nor are
    PostgreSQL's backends, which overwrite theirs (they end with their postmaster).
    """
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.pid != os.getpid() and process.environ().get(variable) == value:
                found.append(process)
    return found


def tagged_processes(token: str) -> list[psutil.Process]:
    """Processes whose environment carries this run's token (escaped grandchildren included),
    this one aside."""
    return processes_carrying(RUN_TOKEN_VARIABLE, token)


def kill_tagged(token: str) -> list[int]:
    """SIGKILL every process still carrying this run's token; their pids."""
    processes = tagged_processes(token)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=5)
    return [process.pid for process in processes]
