"""Contract tests' own fixture: a service whose records is gone."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def without_records(service_instance) -> Callable[[str], str]:
    """`without_records("export")`: the URL of a second process of that service whose
    RECORDS_SERVICE_URL points at a port nobody listens on. Stopped after the test."""
    return lambda service: service_instance(
        service, RECORDS_SERVICE_URL=f"http://127.0.0.1:{_unused_port()}"
    )
