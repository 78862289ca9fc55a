"""A run's reaper: a small watchdog process that takes the run down when its owner dies.

The owner (the Nox session that ran `invoke services.up`, or the pytest process that
brought its own stack up) can die in ways no `finally` survives: SIGKILL, a signal to its
process group, the OOM killer, a closed terminal. The reaper runs in a session of its own,
holds a pidfd of the owner, and when the owner has exited, however, takes the run down
from its state file (`harness.stack._teardown`). `down` stops the reaper first; a run whose reaper
could not do its job (killed too, or no pidfd on this system) is still stale, for the next
`up`, `down` or `ports.clean` to take down.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.exceptions import RunStateError
from harness.infra import ProcessRecord, spawn
from harness.settings import RUN_TOKEN_VARIABLE

# The reaper process waits with nothing of harness imported (a poll on the owner's pidfd),
# and imports harness only once there is a run to take down.
_WAIT_THEN_REAP = """
import select, sys
poller = select.poll()
poller.register(int(sys.argv[1]), select.POLLIN)
while not poller.poll():
    pass
from harness.stack._reaper import reap
sys.exit(reap(*sys.argv[2:]))
"""


def start_reaper(
    run_dir: Path, run_id: str, token: str, owner: ProcessRecord, log_path: Path, cwd: Path
) -> ProcessRecord | None:
    """Start the reaper of run `run_id` watching `owner`; None where there are no pidfds."""
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        pidfd = os.pidfd_open(owner.pid)
    except ProcessLookupError:
        pidfd = -1
    try:
        if pidfd < 0 or not owner.matches():  # so the pidfd is the owner's, not a new pid's
            raise RunStateError(
                f"run {run_id!r}: its owner (pid {owner.pid}) has already exited; nothing "
                "would take the run down"
            )
        env = {**os.environ, RUN_TOKEN_VARIABLE: token}  # found by the token like the rest
        command = [sys.executable, "-c", _WAIT_THEN_REAP, str(pidfd), str(run_dir), run_id, token]
        process = spawn(command, env, log_path, cwd, pass_fds=(pidfd,))
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    return ProcessRecord.of(process.pid)


def reap(run_dir: str, run_id: str, token: str) -> int:
    """Take run `run_id` down, if it is still the run of `token`; the exit code."""
    from harness.infra._ports import PortReservations
    from harness.infra._state import RunDirectory
    from harness.stack._teardown import take_down

    root = Path(run_dir)
    run = RunDirectory(root / "runs", run_id)
    try:
        state = run.load()
    except RunStateError:
        return 0  # taken down already
    if state.token != token:
        return 0  # the name belongs to another run now
    print(f"reaper: the owner of run {run_id!r} is gone; taking the run down", flush=True)
    report = take_down(run, PortReservations.under(root), root / "logs", state)
    for problem in report.problems:
        print(f"reaper: problem: {problem}", flush=True)
    print(f"reaper: stopped {', '.join(report.stopped) or 'nothing'}", flush=True)
    return 0 if report.ok else 1
