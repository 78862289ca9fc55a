"""Every operation that takes a JSON body answers a documented 400 to a body that is not
JSON although Python reads it: NaN, Infinity, -Infinity, a number beyond a double's range."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).parent / "openapi"
JSON_SERVICES = {
    "caseblock",
    "caselaw",
    "exhibits",
    "export",
    "facts",
    "filings",
    "records",
    "signature",
}


def json_operations() -> list[tuple[str, str, str]]:
    """(service, method, path with every parameter 1) of each operation with a JSON body."""
    found = []
    for contract in sorted(CONTRACTS.glob("*.json")):
        for route, item in json.loads(contract.read_text())["paths"].items():
            for method, operation in item.items():
                if "application/json" in operation.get("requestBody", {}).get("content", {}):
                    found.append((contract.stem, method.upper(), re.sub(r"\{[^}]+\}", "1", route)))
    return found


def test_every_service_with_json_bodies_is_covered():
    assert {service for service, _, _ in json_operations()} == JSON_SERVICES


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize(("service", "method", "path"), json_operations())
def test_a_number_json_does_not_have_is_400(service_clients, service, method, path, value):
    response = service_clients[service].request(
        method,
        path,
        content=f'{{"value": {value}, "values": [1.5, {value}]}}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"the JSON body holds {value}: NaN, Infinity")
