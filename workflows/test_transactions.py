"""Transactions against the live stack, on each back end (concurrency: test_concurrency.py)."""

from __future__ import annotations

from steps import created


def test_a_batch_failing_half_way_leaves_no_rows(records, case):
    items = [{"case_id": case["id"], "description": f"Item {n}"} for n in range(600)]
    items.insert(500, {"case_id": 2_000_000_000, "description": "names an unknown case"})

    response = records.post("/evidence-batches", json={"items": items})

    assert response.status_code == 404
    assert response.json() == {"detail": "case 2000000000 not found; no evidence was created"}
    assert created(records.get("/evidence", params={"case_id": case["id"]}), 200) == []


def test_a_thousand_evidence_items_in_one_request_and_listed_in_one(records, case):
    items = [{"case_id": case["id"], "description": f"Exhibit page {n}"} for n in range(1000)]

    made = created(records.post("/evidence-batches", json={"items": items}))
    listed = created(records.get("/evidence", params={"case_id": case["id"]}), 200)

    assert len(made) == 1000
    assert len({item["id"] for item in made}) == 1000
    assert [item["id"] for item in listed] == [item["id"] for item in made]
    assert [item["description"] for item in listed] == [item["description"] for item in items]
