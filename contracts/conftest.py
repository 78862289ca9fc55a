"""Contract tests' own fixture: a service whose records is gone."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def without_records(service_instance) -> Iterator[Callable[[str], str]]:
    """`without_records("export")`: the URL of a second process of that service whose
    RECORDS_SERVICE_URL points at a port held bound but not listening for the whole test:
    connections are refused, and no other process can take the port meanwhile (one freed
    at once was taken by a stack started beside this one, which answered 404). Stopped
    after the test."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        yield lambda service: service_instance(service, RECORDS_SERVICE_URL=url)
