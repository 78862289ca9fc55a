"""pytest plugin (loaded with `harness`): the stack's third-party stubs as a fixture.

`stubs["mail"]` is the stub named mail (`[tool.harness.stubs.mail]`) in a scope of this
test's own: the test scripts its answers and reads its journal, and sends the service
under test `stubs["mail"].headers` (the scope header, which the service forwards to the
stub). Scopes are unique per test, so pytest-xdist workers never see each other's; each is
forgotten after its test (its script, its journal, the answers it is still delaying).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from harness.config import HarnessConfig
from harness.testing import Stubs

if TYPE_CHECKING:
    from harness.pytest.plugin import RunningStack


@pytest.fixture
def stubs(harness_config: HarnessConfig, harness_stack: RunningStack) -> Iterator[Stubs]:
    """The stack's stubs by name, each in this test's scope (`harness.testing.Stub`)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made = Stubs(harness_config.stubs, harness_stack.server_urls, f"{worker}-{uuid.uuid4().hex}")
    yield made
    made.close()
