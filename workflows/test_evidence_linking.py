"""Evidence linking: evidence in records -> exhibits A, B, C -> delete B -> renumbered;
facts cite exhibits and keep citing the same ones after renumbering."""

from __future__ import annotations

from steps import created


def test_exhibits_numbered_renumbered_and_cited_by_facts(service_clients, records, case):
    exhibits, facts = service_clients["exhibits"], service_clients["facts"]
    evidence = created(
        records.post(
            "/evidence-batches",
            json={
                "items": [
                    {"case_id": case["id"], "description": name}
                    for name in ("Lease", "Notice to vacate", "Rent ledger")
                ]
            },
        )
    )
    added = [
        created(
            exhibits.post(
                "/exhibits",
                json={
                    "case_id": case["id"],
                    "evidence_id": item["id"],
                    "title": item["description"],
                },
            )
        )
        for item in evidence
    ]
    assert [e["letter"] for e in added] == ["A", "B", "C"]
    assert [e["evidence_id"] for e in added] == [item["id"] for item in evidence]

    fact = created(
        facts.post(
            "/facts",
            json={
                "case_id": case["id"],
                "text": "The ledger shows four months unpaid (Ex. C), under the lease (Ex. A).",
                "exhibit_ids": [added[2]["id"], added[0]["id"]],
            },
        )
    )

    assert exhibits.delete(f"/exhibits/{added[1]['id']}").status_code == 204

    listed = created(exhibits.get("/exhibits", params={"case_id": case["id"]}), 200)
    assert [(e["letter"], e["title"]) for e in listed] == [("A", "Lease"), ("B", "Rent ledger")]
    cited = [created(exhibits.get(f"/exhibits/{i}"), 200) for i in fact["exhibit_ids"]]
    assert [(e["letter"], e["evidence_id"]) for e in cited] == [
        ("B", evidence[2]["id"]),
        ("A", evidence[0]["id"]),
    ]
    assert created(facts.get(f"/facts/{fact['id']}"), 200)["exhibit_ids"] == fact["exhibit_ids"]


def test_a_fact_cannot_cite_a_deleted_exhibit(service_clients, records, case):
    exhibits = service_clients["exhibits"]
    item = created(records.post("/evidence", json={"case_id": case["id"], "description": "Memo"}))
    exhibit = created(
        exhibits.post(
            "/exhibits", json={"case_id": case["id"], "evidence_id": item["id"], "title": "Memo"}
        )
    )
    assert exhibits.delete(f"/exhibits/{exhibit['id']}").status_code == 204

    response = service_clients["facts"].post(
        "/facts", json={"case_id": case["id"], "text": "See memo.", "exhibit_ids": [exhibit["id"]]}
    )

    assert response.status_code == 404
    assert response.json() == {"detail": f"exhibit {exhibit['id']} not found in exhibits"}
