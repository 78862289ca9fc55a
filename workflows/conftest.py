"""Workflow tests: the services working together on the live stack, each test on its own data."""

from __future__ import annotations

import pytest


@pytest.fixture
def records(service_clients):
    return service_clients["records"]
