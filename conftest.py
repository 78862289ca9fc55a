"""Fixtures the test packages of the reference monorepo share (contracts, workflows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def make_case(service_clients, unique) -> Callable[..., dict[str, Any]]:
    """`make_case(template_id=…, variables=…)`: a case in records, unique to the test; any
    field given replaces the default."""

    def make(**fields: Any) -> dict[str, Any]:
        body = {
            "case_name": f"{unique('Roe')} v. Doe",
            "cause_number": unique("2026-CI"),
            "court_name": "District Court of Travis County, Texas",
            **fields,
        }
        response = service_clients["records"].post("/cases", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def case(make_case) -> dict[str, Any]:
    """A case in records, unique to the test."""
    return make_case()
