"""Lists keep their documented order (`x-order`) after rows are updated and deleted.

On PostgreSQL an updated row is a new tuple, which a sequential scan without ORDER BY returns
last (an index scan on a filter column follows the HOT chain and hides it: the lists are
read unfiltered); SQLite keeps rowid order whatever the query says. So each list is read
after an update and a delete, and conformance checks the whole answer against its order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest


def _made(response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def _templates(service_clients, case, unique):
    records = service_clients["records"]
    rows = [_made(records.post("/templates", json={"name": unique("T")})) for _ in range(3)]
    return records, "/templates", rows, {"name": unique("Renamed")}


def _facts(service_clients, case, unique):
    facts = service_clients["facts"]
    made = [
        _made(facts.post("/facts", json={"case_id": case["id"], "text": f"F{n}"})) for n in "123"
    ]
    return facts, "/facts", made, {"text": "Restated"}


def _exhibits(service_clients, case, unique):
    records, exhibits = service_clients["records"], service_clients["exhibits"]
    items = [{"case_id": case["id"], "description": f"E{n}"} for n in range(3)]
    evidence = _made(records.post("/evidence-batches", json={"items": items}))
    made = [
        _made(
            exhibits.post(
                "/exhibits",
                json={"case_id": case["id"], "evidence_id": item["id"], "title": "X"},
            )
        )
        for item in evidence
    ]
    return exhibits, "/exhibits", made, {"title": "Retitled"}


@pytest.mark.parametrize("rows", [_templates, _facts, _exhibits], ids=lambda f: f.__name__[1:])
def test_a_list_read_after_an_update_and_a_delete_keeps_its_order(
    service_clients, case, unique, rows
):
    client, path, (first, second, third), change = rows(service_clients, case, unique)

    assert client.put(f"{path}/{first['id']}", json=change).status_code == 200
    assert client.delete(f"{path}/{second['id']}").status_code == 204
    listed = client.get(path)  # every row: conformance checks the order (x-order)

    ours = [row["id"] for row in listed.json() if row["id"] in {first["id"], third["id"]}]
    assert ours == [first["id"], third["id"]]


def test_every_list_the_services_answer_documents_its_order(harness_config):
    """A list a client would page or display states its order (caselaw's reporters, a fixed
    table, is the one list whose order is no promise)."""
    unordered = []
    for service in harness_config.under_contract():
        document = json.loads(harness_config.contract_path(service.name).read_text())
        for path, item in document["paths"].items():
            schema = (
                item.get("get", {})
                .get("responses", {})
                .get("200", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            if schema.get("type") == "array" and "x-order" not in item["get"]:
                unordered.append(f"{service.name} GET {path}")

    assert unordered == ["caselaw GET /reporters"]
