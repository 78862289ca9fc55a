"""Workflow tests: the services working together on the live stack, each test on its own data."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest


@pytest.fixture
def records(service_clients):
    return service_clients["records"]


@pytest.fixture
def private_client(service_instance, contract_validators) -> Iterator[Callable[..., httpx.Client]]:
    """`private_client("caselaw", REDIS_URL=…)`: a client of a process of that service of
    the test's own (`service_instance`), its answers checked against the service's contract."""
    clients: list[httpx.Client] = []

    def start(service: str, **env: str) -> httpx.Client:
        hook = contract_validators[service].hook()
        url = service_instance(service, **env)
        clients.append(httpx.Client(base_url=url, timeout=30, event_hooks={"response": [hook]}))
        return clients[-1]

    yield start
    for client in clients:
        client.close()
