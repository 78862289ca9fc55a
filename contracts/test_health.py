"""Every service answers GET /health with the shared shape."""

from __future__ import annotations

from datetime import datetime

import pytest

SERVICES = ["records", "ingestion", "export"]


@pytest.mark.parametrize("service", SERVICES)
def test_health_shape(service_clients, service):
    response = service_clients[service].get("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "service", "timestamp"}
    assert body["status"] == "healthy"
    assert body["service"] == service
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None


def test_every_service_of_the_stack_is_under_contract(service_urls):
    assert sorted(service_urls) == sorted(SERVICES)
