"""Signal handling that lets cleanup run: SIGTERM as KeyboardInterrupt, signals held in teardown.

Under Python's default handling SIGTERM ends the process at once and no `finally` runs,
which is how test tools leave orphans behind.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks run (the default just dies)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_deferred(on_signal: Callable[[int], None] | None = None) -> Iterator[None]:
    """Hold SIGINT and SIGTERM while tearing down, so no Ctrl-C can leave a mess.

    Each signal that arrives meanwhile calls `on_signal` with how many have so far (it
    says what is left, or hurries the teardown on); none is raised afterwards: the
    teardown was the last thing to do, and an exception out of it would only be a
    traceback (in pytest's session finish, say) over work that completed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if on_signal is not None:
            on_signal(len(received))

    previous = {s: signal.signal(s, remember) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
