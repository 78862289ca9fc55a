"""Draft creation: template with variables -> case from it -> draft from the case, with its
case block and signature block carrying the resolved values; a second save bumps the version."""

from __future__ import annotations

from steps import created

TEMPLATE_SECTIONS = [
    {"title": "Parties", "content": "{{plaintiff}} sues {{ defendant }}.", "level": 1},
    {"title": "Prayer", "content": "{{plaintiff}} asks the Court for relief.", "level": 1},
]
TEMPLATE_VARIABLES = {
    "defendant": "John Doe",
    "attorney_name": "Ann Lee",
    "bar_number": "24012345",
    "attorney_email": "ann@lee.example",
    "county": "Travis",
}


def test_template_case_draft_with_caption_and_signature(
    service_clients, records, make_case, unique
):
    template = created(
        records.post(
            "/templates",
            json={
                "name": unique("Original Petition"),
                "sections": TEMPLATE_SECTIONS,
                "variables": TEMPLATE_VARIABLES,
            },
        )
    )
    case = make_case(
        case_name="Jane Roe v. John Doe",
        template_id=template["id"],
        variables={"plaintiff": "Jane Roe", "attorney_name": "Maria Garza"},
    )

    draft = created(records.post(f"/cases/{case['id']}/drafts", json={}))
    assert (draft["case_id"], draft["version"]) == (case["id"], 1)
    assert [s["content"] for s in draft["sections"]] == [
        "Jane Roe sues John Doe.",
        "Jane Roe asks the Court for relief.",
    ]

    values = {**template["variables"], **case["variables"]}
    caption = created(
        service_clients["caseblock"].post(
            "/caseblock",
            json={
                "case_name": case["case_name"],
                "cause_number": case["cause_number"],
                "court_name": case["court_name"],
                "county": values["county"],
                "plaintiffs": [values["plaintiff"]],
                "defendants": [values["defendant"]],
            },
        ),
        200,
    )
    signature = created(
        service_clients["signature"].post(
            "/signature",
            json={
                "name": values["attorney_name"],
                "bar_number": values["bar_number"],
                "email": values["attorney_email"],
            },
        ),
        200,
    )
    assert case["cause_number"] in caption["text"]
    assert "JANE ROE" in caption["text"].upper() and "JOHN DOE" in caption["text"].upper()
    assert "Maria Garza" in signature["text"]  # the case's value wins over the template's
    assert "Ann Lee" not in signature["text"]
    assert "24012345" in signature["text"]

    sections = [
        {"title": "Caption", "content": caption["text"], "level": 1},
        *draft["sections"],
        {"title": "Signature", "content": signature["text"], "level": 1},
    ]
    saved = created(
        records.put(f"/drafts/{draft['id']}", json={"version": 1, "sections": sections}), 200
    )
    assert saved["version"] == 2

    stored = created(records.get(f"/drafts/{draft['id']}"), 200)
    assert stored["sections"] == sections
    versions = created(records.get(f"/drafts/{draft['id']}/versions"), 200)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["sections"] == draft["sections"]


def test_draft_from_a_case_missing_a_value_is_refused_naming_it(records, make_case, unique):
    template = created(
        records.post("/templates", json={"name": unique("t"), "sections": TEMPLATE_SECTIONS})
    )
    case = make_case(template_id=template["id"], variables={"plaintiff": "Ann"})

    response = records.post(f"/cases/{case['id']}/drafts", json={})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"case {case['id']} gives no value for defendant; set it first"
    }
