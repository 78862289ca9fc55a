"""caselaw: citations found in text, normalised with reporter, volume, page, court and year."""

from __future__ import annotations

import pytest


@pytest.fixture
def caselaw(service_clients):
    return service_clients["caselaw"]


def _citations(caselaw, text):
    response = caselaw.post("/citations", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["citations"])
    return body["citations"]


def test_state_citation_with_court_and_year(caselaw):
    text = "As held in Smith v. Jones, 123 S.W.3d 456 (Tex. 2004), the rule applies."

    [citation] = _citations(caselaw, text)

    assert citation == {
        "text": "123 S.W.3d 456 (Tex. 2004)",
        "start": text.index("123"),
        "end": text.index("123") + len("123 S.W.3d 456 (Tex. 2004)"),
        "volume": 123,
        "reporter": "S.W.3d",
        "page": 456,
        "pin": None,
        "court": "Tex.",
        "year": 2004,
        "normalized": "123 S.W.3d 456 (Tex. 2004)",
    }


def test_supreme_court_citation_implies_the_court(caselaw):
    [citation] = _citations(caselaw, "See Roe v. Wade, 410 U.S. 113.")

    assert (citation["volume"], citation["reporter"], citation["page"]) == (410, "U.S.", 113)
    assert citation["court"] == "U.S."
    assert citation["year"] is None
    assert citation["normalized"] == "410 U.S. 113"


def test_spacing_variants_and_pin_cites_are_normalised(caselaw):
    citations = _citations(
        caselaw, "Compare 55 S. W. 2d 12, 14 (Tex. App. 1999) with 12 F. Supp.3d 4 (1998)."
    )

    assert [c["normalized"] for c in citations] == [
        "55 S.W.2d 12, 14 (Tex. App. 1999)",
        "12 F. Supp. 3d 4 (1998)",
    ]
    assert citations[0]["pin"] == "14"
    assert citations[1]["court"] is None


def test_text_without_citations_gives_none(caselaw):
    assert _citations(caselaw, "No authority at all, 12 monkeys and 3 Foo 4.") == []


def test_reporters_list_the_standard_forms(caselaw):
    response = caselaw.get("/reporters")

    assert response.status_code == 200
    reporters = {item["reporter"]: item["court"] for item in response.json()}
    assert reporters["U.S."] == "U.S."
    assert reporters["S.W.3d"] is None


@pytest.mark.parametrize("payload", [{}, {"text": 42}, {"text": "x" * 200_001}])
def test_invalid_body_is_422(caselaw, payload):
    response = caselaw.post("/citations", json=payload)

    assert response.status_code == 422
