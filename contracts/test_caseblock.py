"""caseblock: a caption from case data; every required field is checked."""

from __future__ import annotations

import pytest

CAPTION = {
    "case_name": "Roe v. Doe",
    "cause_number": "2026-CI-00417",
    "court_name": "District Court",
    "county": "Travis",
    "plaintiffs": ["Jane Roe"],
    "defendants": ["John Doe", "Acme  Holdings\nInc."],
}


@pytest.fixture
def caseblock(service_clients):
    return service_clients["caseblock"]


def test_caption_has_cause_number_parties_and_court(caseblock):
    response = caseblock.post("/caseblock", json=CAPTION)

    assert response.status_code == 200
    body = response.json()
    assert body["cause_number"] == "2026-CI-00417"
    assert body["court"] == "District Court, Travis County, Texas"
    assert body["plaintiffs"] == ["Jane Roe"]
    assert body["defendants"] == ["John Doe", "Acme Holdings Inc."]
    lines = body["lines"]
    assert lines[0] == "CAUSE NO. 2026-CI-00417"
    assert [line.split("§")[0].strip() for line in lines[2:]] == [
        "JANE ROE,",
        "Plaintiff.",
        "",
        "v.",
        "",
        "JOHN DOE,",
        "ACME HOLDINGS INC.,",
        "Defendants.",
    ]
    court_side = [line.split("§")[1].strip() for line in lines[2:]]
    assert "IN THE DISTRICT COURT" in court_side
    assert "TRAVIS COUNTY, TEXAS" in court_side
    assert body["text"] == "\n".join(lines)


def test_state_can_be_given(caseblock):
    response = caseblock.post("/caseblock", json={**CAPTION, "state": "Oklahoma"})

    assert response.status_code == 200
    assert response.json()["court"].endswith("Travis County, Oklahoma")


@pytest.mark.parametrize(
    "field", ["case_name", "cause_number", "court_name", "county", "plaintiffs", "defendants"]
)
def test_missing_required_field_is_422_naming_it(caseblock, field):
    payload = {key: value for key, value in CAPTION.items() if key != field}

    response = caseblock.post("/caseblock", json=payload)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


@pytest.mark.parametrize(
    "change",
    [
        {"cause_number": "   "},
        {"plaintiffs": []},
        {"defendants": [""]},
        {"county": "x" * 101},
        {"case_name": "nul\x00byte"},
    ],
)
def test_blank_empty_or_oversized_fields_are_422(caseblock, change):
    response = caseblock.post("/caseblock", json={**CAPTION, **change})

    assert response.status_code == 422
