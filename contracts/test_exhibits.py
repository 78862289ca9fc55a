"""exhibits: lettered A, B, … per case, linked to records' evidence, renumbered on delete."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def exhibits(service_clients):
    return service_clients["exhibits"]


@pytest.fixture
def evidence(service_clients, case):
    """Three evidence items of the case."""
    records = service_clients["records"]
    items = []
    for description in ("Contract", "Invoice", "Letter"):
        response = records.post(
            "/evidence", json={"case_id": case["id"], "description": description}
        )
        assert response.status_code == 201
        items.append(response.json())
    return items


def _add(exhibits, case, item):
    return exhibits.post(
        "/exhibits",
        json={"case_id": case["id"], "evidence_id": item["id"], "title": item["description"]},
    )


def test_exhibits_are_lettered_in_order(exhibits, case, evidence):
    created = [_add(exhibits, case, item) for item in evidence]

    assert [r.status_code for r in created] == [201, 201, 201]
    assert [r.json()["letter"] for r in created] == ["A", "B", "C"]
    assert [r.json()["position"] for r in created] == [1, 2, 3]
    assert created[0].json()["evidence_id"] == evidence[0]["id"]


def test_delete_renumbers_the_later_exhibits(exhibits, case, evidence):
    a, b, c = (_add(exhibits, case, item).json() for item in evidence)

    assert exhibits.delete(f"/exhibits/{b['id']}").status_code == 204

    listed = exhibits.get("/exhibits", params={"case_id": case["id"]}).json()
    assert [(item["id"], item["letter"]) for item in listed] == [(a["id"], "A"), (c["id"], "B")]
    assert exhibits.get(f"/exhibits/{b['id']}").status_code == 404


def test_same_evidence_twice_is_409(exhibits, case, evidence):
    assert _add(exhibits, case, evidence[0]).status_code == 201

    response = _add(exhibits, case, evidence[0])

    assert response.status_code == 409
    assert "already an exhibit" in response.json()["detail"]


def test_unknown_evidence_or_case_is_404(exhibits, case):
    unknown_evidence = exhibits.post(
        "/exhibits", json={"case_id": case["id"], "evidence_id": 2_000_000_000, "title": "X"}
    )
    unknown_case = exhibits.post(
        "/exhibits", json={"case_id": 2_000_000_000, "evidence_id": 1, "title": "X"}
    )

    assert unknown_evidence.status_code == 404
    assert unknown_evidence.json() == {"detail": "evidence 2000000000 not found in records"}
    assert unknown_case.status_code == 404
    assert unknown_case.json() == {"detail": "case 2000000000 not found in records"}


def test_evidence_of_another_case_is_409(exhibits, make_case, case, evidence):
    other = make_case()

    response = exhibits.post(
        "/exhibits", json={"case_id": other["id"], "evidence_id": evidence[0]["id"], "title": "X"}
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"evidence {evidence[0]['id']} belongs to case {case['id']}, not case {other['id']}"
    )


def test_title_can_be_changed(exhibits, case, evidence):
    exhibit = _add(exhibits, case, evidence[0]).json()

    response = exhibits.put(f"/exhibits/{exhibit['id']}", json={"title": "Signed contract"})

    assert response.status_code == 200
    assert response.json() == {**exhibit, "title": "Signed contract"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_exhibit_is_404(exhibits, method):
    response = exhibits.request(
        method, "/exhibits/999999999", json={"title": "x"} if method == "PUT" else None
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "exhibit 999999999 not found"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"case_id": 1, "evidence_id": 1}, {"case_id": 1, "evidence_id": -1, "title": "x"}],
)
def test_invalid_body_is_422(exhibits, payload):
    assert exhibits.post("/exhibits", json=payload).status_code == 422


def test_without_records_creation_is_503(without_records):
    url = without_records("exhibits")

    response = httpx.post(
        f"{url}/exhibits", json={"case_id": 1, "evidence_id": 1, "title": "X"}, timeout=30
    )

    assert response.status_code == 503
    assert "records is unreachable" in response.json()["detail"]


def test_after_z_come_aa_and_ab(exhibits, service_clients, case):
    records = service_clients["records"]
    items = [
        records.post("/evidence", json={"case_id": case["id"], "description": f"Item {n}"}).json()
        for n in range(28)
    ]

    letters = [_add(exhibits, case, item).json()["letter"] for item in items]

    assert letters[:3] == ["A", "B", "C"]
    assert letters[25:] == ["Z", "AA", "AB"]
