"""pytest plugin (loaded with `harness`): a test during which a process of the stack tried
to reach beyond the machine fails (the outbound guard's refusals, `harness.stack._outbound`).

Only tests that use the stack are watched; under pytest-xdist a refusal during two
workers' tests fails both, since which of them caused it cannot be told.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config import HarnessConfig
from harness.stack import Stack
from harness.stack._outbound import RECORD_NAME, refusals


@pytest.fixture(autouse=True)
def _outbound_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test (at its teardown) if the stack's outbound guard refused anything."""
    if "harness_stack" not in request.fixturenames:
        yield
        return
    config: HarnessConfig = request.getfixturevalue("harness_config")
    if config.outbound != "loopback":
        yield
        return
    stack = request.getfixturevalue("harness_stack")
    record = Stack(config, stack.run_id).run.logs / RECORD_NAME
    seen = record.stat().st_size if record.exists() else 0
    yield
    refused = refusals(record, seen)
    if refused:
        pytest.fail(
            "harness: a process of the stack tried to reach beyond 127.0.0.1 during this test "
            "(refused; tool.harness.outbound = 'loopback'):\n  " + "\n  ".join(refused),
            pytrace=False,
        )
