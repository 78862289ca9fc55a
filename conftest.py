"""Fixtures the test packages of the reference monorepo share (contracts, workflows)."""

from __future__ import annotations

import pytest


@pytest.fixture
def case(service_clients, unique):
    """A case in records, unique to the test."""
    response = service_clients["records"].post(
        "/cases",
        json={
            "case_name": f"{unique('Roe')} v. Doe",
            "cause_number": unique("2026-CI"),
            "court_name": "District Court of Travis County, Texas",
        },
    )
    assert response.status_code == 201
    return response.json()
