"""A run of the caller's own: up for a `with` block, down after it, whatever happened.

What `contracts.export`, `migrations.check`, `perf.baseline` and the pytest plugin's
session stack share; each decides how to report a teardown that owes something.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from harness.config import HarnessConfig
from harness.infra import RunState, sigterm_raises
from harness.stack._stack import Stack
from harness.stack._teardown import Teardown


@contextlib.contextmanager
def private_run(
    config: HarnessConfig,
    run_id: str,
    backend: str,
    on_problems: Callable[[Teardown], None],
    **up_options: Any,
) -> Iterator[RunState]:
    """Run `run_id` up on `backend` (`Stack.up`'s `up_options`) for the block; a SIGTERM
    tears it down like an exception; a teardown with problems goes to `on_problems`."""
    stack = Stack(config, run_id)
    with sigterm_raises():
        state = stack.up(backend, **up_options)
        try:
            yield state
        finally:
            report = stack.down()
            if not report.ok:
                on_problems(report)
