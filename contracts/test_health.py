"""Every service answers GET /health with the shared shape."""

from __future__ import annotations

from datetime import datetime


def test_health_shape(service_clients, contract_service):
    response = service_clients[contract_service].get("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "service", "timestamp"}
    assert body["status"] == "healthy"
    assert body["service"] == contract_service
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
