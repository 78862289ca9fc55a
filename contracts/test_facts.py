"""facts: statements of fact on a case that records knows, citing its exhibits; CRUD, 404s,
409s, 503 without records."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def facts(service_clients):
    return service_clients["facts"]


@pytest.fixture
def fact(facts, case):
    response = facts.post(
        "/facts", json={"case_id": case["id"], "text": "The contract was signed."}
    )
    assert response.status_code == 201
    return response.json()


def test_create_returns_201_with_id_case_and_text(facts, case):
    response = facts.post("/facts", json={"case_id": case["id"], "text": "Payment was late."})

    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert (body["case_id"], body["text"]) == (case["id"], "Payment was late.")
    assert body["created_at"] and body["updated_at"]


def test_fact_for_a_case_records_does_not_know_is_404(facts):
    response = facts.post("/facts", json={"case_id": 2_000_000_000, "text": "Orphan."})

    assert response.status_code == 404
    assert response.json() == {"detail": "case 2000000000 not found in records"}
    assert all(item["case_id"] != 2_000_000_000 for item in facts.get("/facts").json())


def test_list_filters_by_case(facts, fact, case, make_case):
    other_case = make_case()
    facts.post("/facts", json={"case_id": other_case["id"], "text": "Elsewhere."})

    response = facts.get("/facts", params={"case_id": case["id"]})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [fact["id"]]


def test_get_update_delete(facts, fact):
    assert facts.get(f"/facts/{fact['id']}").json() == fact

    updated = facts.put(f"/facts/{fact['id']}", json={"text": "It was signed twice."})
    assert updated.status_code == 200
    assert updated.json()["text"] == "It was signed twice."
    assert updated.json()["case_id"] == fact["case_id"]

    assert facts.delete(f"/facts/{fact['id']}").status_code == 204
    assert facts.get(f"/facts/{fact['id']}").status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_fact_is_404(facts, method):
    response = facts.request(
        method, "/facts/999999999", json={"text": "x"} if method == "PUT" else None
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "fact 999999999 not found"}


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"case_id": 1},
        {"case_id": 0, "text": "x"},
        {"case_id": 1, "text": " "},
        {"case_id": "a", "text": "x"},
    ],
)
def test_invalid_body_is_422(facts, payload):
    assert facts.post("/facts", json=payload).status_code == 422


def test_without_records_creation_is_503(without_records):
    url = without_records("facts")

    response = httpx.post(f"{url}/facts", json={"case_id": 1, "text": "Lost?"}, timeout=30)

    assert response.status_code == 503
    assert "records is unreachable" in response.json()["detail"]


def _exhibit_of(service_clients, case, unique):
    evidence = service_clients["records"].post(
        "/evidence", json={"case_id": case["id"], "description": unique("Lease")}
    )
    exhibit = service_clients["exhibits"].post(
        "/exhibits",
        json={"case_id": case["id"], "evidence_id": evidence.json()["id"], "title": "Lease"},
    )
    assert exhibit.status_code == 201
    return exhibit.json()


def test_fact_cites_exhibits_of_its_case(facts, service_clients, case, unique):
    exhibit = _exhibit_of(service_clients, case, unique)

    response = facts.post(
        "/facts",
        json={"case_id": case["id"], "text": "See the lease.", "exhibit_ids": [exhibit["id"]]},
    )

    assert response.status_code == 201
    assert response.json()["exhibit_ids"] == [exhibit["id"]]


def test_fact_citing_an_unknown_exhibit_is_404(facts, case):
    response = facts.post(
        "/facts", json={"case_id": case["id"], "text": "See X.", "exhibit_ids": [2_000_000_000]}
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "exhibit 2000000000 not found in exhibits"}


def test_fact_citing_another_cases_exhibit_is_409(facts, service_clients, case, make_case, unique):
    other = make_case()
    exhibit = _exhibit_of(service_clients, other, unique)

    response = facts.post(
        "/facts", json={"case_id": case["id"], "text": "See.", "exhibit_ids": [exhibit["id"]]}
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"exhibit {exhibit['id']} belongs to case {other['id']}, not case {case['id']}"
    }
