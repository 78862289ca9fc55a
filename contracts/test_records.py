"""records: templates, cases, drafts and evidence over HTTP."""

from __future__ import annotations

import pytest

TEMPLATE = {
    "description": "A petition",
    "sections": [{"title": "Parties", "content": "Plaintiff {{plaintiff}}", "level": 1}],
    "variables": {"plaintiff": "Jane Roe"},
}


@pytest.fixture
def records(service_clients):
    return service_clients["records"]


@pytest.fixture
def template(records, unique):
    response = records.post("/templates", json={**TEMPLATE, "name": unique("template")})
    assert response.status_code == 201
    return response.json()


def test_template_create_returns_201_with_id_and_fields(records, unique):
    name = unique("template")
    response = records.post("/templates", json={**TEMPLATE, "name": name})

    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["name"] == name
    assert body["sections"] == TEMPLATE["sections"]
    assert body["variables"] == TEMPLATE["variables"]
    assert body["created_at"] and body["updated_at"]


def test_template_list_includes_created(records, template):
    response = records.get("/templates")

    assert response.status_code == 200
    assert template["id"] in [item["id"] for item in response.json()]


def test_template_get_returns_it(records, template):
    response = records.get(f"/templates/{template['id']}")

    assert response.status_code == 200
    assert response.json() == template


def test_template_update_changes_only_given_fields(records, template):
    response = records.put(f"/templates/{template['id']}", json={"description": "Amended"})

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Amended"
    assert body["name"] == template["name"]
    assert body["sections"] == template["sections"]
    assert records.get(f"/templates/{template['id']}").json()["description"] == "Amended"


def test_template_delete_is_204_then_404(records, template):
    assert records.delete(f"/templates/{template['id']}").status_code == 204

    response = records.get(f"/templates/{template['id']}")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/templates/999999999"),
        ("PUT", "/templates/999999999"),
        ("DELETE", "/templates/999999999"),
        ("GET", "/cases/999999999"),
        ("GET", "/drafts/999999999"),
        ("GET", "/drafts/999999999/versions"),
        ("POST", "/cases/999999999/drafts"),
        ("GET", "/evidence/999999999"),
    ],
)
def test_unknown_ids_are_404_with_json_error(records, method, path):
    response = records.request(method, path, json={"name": "x"} if method != "GET" else None)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": 42},
        {"name": "x" * 201},
        {"name": "ok", "sections": [{"content": "no title"}]},
        {"name": "ok", "sections": [{"title": "T", "level": 0}]},
        {"name": "ok", "variables": ["not", "a", "map"]},
    ],
)
def test_invalid_template_data_is_422(records, payload):
    response = records.post("/templates", json=payload)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


def test_malformed_json_body_is_422_not_500(records):
    response = records.post(
        "/templates", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"]


def test_update_with_null_name_is_422(records, template):
    response = records.put(f"/templates/{template['id']}", json={"name": None})

    assert response.status_code == 422


def test_case_create_and_list(records, case):
    assert isinstance(case["id"], int)
    assert case["status"] == "open"

    listed = records.get("/cases")
    assert listed.status_code == 200
    assert case in listed.json()


def test_case_with_unknown_template_is_404(records, unique):
    response = records.post(
        "/cases",
        json={
            "case_name": "A v. B",
            "cause_number": unique("C"),
            "court_name": "Court",
            "template_id": 999999999,
        },
    )

    assert response.status_code == 404


def test_case_missing_required_fields_is_422(records):
    response = records.post("/cases", json={"case_name": "A v. B"})

    assert response.status_code == 422
    missing = {error["loc"][-1] for error in response.json()["detail"]}
    assert missing == {"cause_number", "court_name"}


def test_draft_save_bumps_version_and_stale_save_is_409(records, case):
    created = records.post(
        "/drafts",
        json={
            "case_id": case["id"],
            "title": "Original Petition",
            "sections": [{"title": "Facts", "content": "On a day"}],
        },
    )
    assert created.status_code == 201
    draft = created.json()
    assert draft["version"] == 1

    saved = records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Amended Petition"})
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    assert saved.json()["title"] == "Amended Petition"

    stale = records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Lost update"})
    assert stale.status_code == 409
    assert records.get(f"/drafts/{draft['id']}").json()["title"] == "Amended Petition"


def test_a_save_changing_neither_title_nor_sections_is_422_and_keeps_the_version(records, case):
    """The contract's anyOf (title, sections or both), enforced by the service's own code."""
    draft = records.post("/drafts", json={"case_id": case["id"], "title": "Petition"}).json()

    response = records.put(f"/drafts/{draft['id']}", json={"version": 1})

    assert response.status_code == 422
    assert "nothing to save: give title or sections" in response.text
    assert [v["version"] for v in records.get(f"/drafts/{draft['id']}/versions").json()] == [1]


def test_draft_for_unknown_case_is_404(records):
    response = records.post("/drafts", json={"case_id": 999999999, "title": "T"})

    assert response.status_code == 404


def test_evidence_create_and_list_by_case(records, case):
    created = records.post("/evidence", json={"case_id": case["id"], "description": "Lease"})
    assert created.status_code == 201
    assert created.json()["kind"] == "document"

    listed = records.get("/evidence", params={"case_id": case["id"]})
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [created.json()["id"]]


def test_draft_from_case_fills_template_variables_case_first(records, template, make_case):
    case = make_case(template_id=template["id"], variables={"plaintiff": "Ann Smith"})

    response = records.post(f"/cases/{case['id']}/drafts", json={})

    assert response.status_code == 201
    draft = response.json()
    assert (draft["case_id"], draft["title"], draft["version"]) == (case["id"], template["name"], 1)
    assert draft["sections"] == [{"title": "Parties", "content": "Plaintiff Ann Smith", "level": 1}]


def test_draft_from_case_without_template_is_409(records, case):
    response = records.post(f"/cases/{case['id']}/drafts", json={"title": "T"})

    assert response.status_code == 409
    assert response.json() == {"detail": f"case {case['id']} has no template to start a draft from"}


def test_draft_from_case_missing_a_variable_is_409_naming_it(records, unique, make_case):
    template = records.post(
        "/templates",
        json={"name": unique("t"), "sections": [{"title": "{{ court }}", "content": "{{judge}}"}]},
    ).json()
    case = make_case(template_id=template["id"], variables={"court": "County Court"})

    response = records.post(f"/cases/{case['id']}/drafts", json={})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"case {case['id']} gives no value for judge; set it first"
    }


def test_draft_versions_are_kept_in_order(records, case):
    draft = records.post("/drafts", json={"case_id": case["id"], "title": "V1"}).json()
    records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "V2"})

    response = records.get(f"/drafts/{draft['id']}/versions")

    assert response.status_code == 200
    assert [(v["version"], v["title"]) for v in response.json()] == [(1, "V1"), (2, "V2")]


def test_a_save_that_repeats_the_title_is_a_new_version_of_the_draft_too(records, case):
    draft = records.post("/drafts", json={"case_id": case["id"], "title": "Petition"}).json()

    saved = records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Petition"})

    assert saved.status_code == 200 and saved.json()["version"] == 2
    assert records.get(f"/drafts/{draft['id']}").json()["version"] == 2
    assert [v["version"] for v in records.get(f"/drafts/{draft['id']}/versions").json()] == [1, 2]


def test_evidence_batch_creates_every_item_in_order(records, case):
    items = [{"case_id": case["id"], "description": f"Item {n}"} for n in range(3)]

    response = records.post("/evidence-batches", json={"items": items})

    assert response.status_code == 201
    assert [item["description"] for item in response.json()] == ["Item 0", "Item 1", "Item 2"]
    listed = records.get("/evidence", params={"case_id": case["id"]}).json()
    assert [item["id"] for item in listed] == [item["id"] for item in response.json()]


def test_evidence_batch_naming_an_unknown_case_is_404_and_creates_nothing(records, case):
    items = [
        {"case_id": case["id"], "description": "Kept?"},
        {"case_id": 2_000_000_000, "description": "Orphan"},
    ]

    response = records.post("/evidence-batches", json={"items": items})

    assert response.status_code == 404
    assert response.json() == {"detail": "case 2000000000 not found; no evidence was created"}
    assert records.get("/evidence", params={"case_id": case["id"]}).json() == []


@pytest.mark.parametrize("count", [0, 1_001])
def test_evidence_batch_outside_1_to_1000_items_is_422(records, case, count):
    items = [{"case_id": case["id"], "description": "x"}] * count

    response = records.post("/evidence-batches", json={"items": items})

    assert response.status_code == 422
    assert records.get("/evidence", params={"case_id": case["id"]}).json() == []
