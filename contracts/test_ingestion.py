"""ingestion: .docx uploads to sections, metadata and case blocks; anything else is 400."""

from __future__ import annotations

import pytest
from conftest import build_docx

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CAPTION = [
    "CAUSE NO. 2026-CI-01234",
    "JANE ROE v. JOHN DOE",
    "IN THE DISTRICT COURT OF TRAVIS COUNTY, TEXAS",
]
SECTIONS = [
    ("Parties", ["Plaintiff is Jane Roe.", "Defendant is John Doe."]),
    ("Facts", ["On January 5, the lease ended."]),
]


@pytest.fixture
def ingestion(service_clients):
    return service_clients["ingestion"]


def upload(content: bytes, name: str = "petition.docx", media_type: str = DOCX):
    return {"file": (name, content, media_type)}


def test_parse_returns_sections_in_order_with_content(ingestion):
    response = ingestion.post("/parse", files=upload(build_docx(CAPTION, SECTIONS)))

    assert response.status_code == 200
    body = response.json()
    titles = [section["title"] for section in body["sections"]]
    assert titles == ["Preamble", "Parties", "Facts"]
    parties = body["sections"][1]
    assert parties["level"] == 1
    assert parties["content"] == "Plaintiff is Jane Roe.\nDefendant is John Doe."
    assert [section["id"] for section in body["sections"]] == [1, 2, 3]


def test_parse_returns_metadata(ingestion):
    response = ingestion.post("/parse", files=upload(build_docx(CAPTION, SECTIONS)))

    metadata = response.json()["metadata"]
    assert metadata["title"] == "Contract test document"
    assert metadata["author"] == "harness"
    assert metadata["paragraph_count"] == 8
    assert metadata["word_count"] > 20


def test_extract_caseblock(ingestion):
    response = ingestion.post("/extract-caseblock", files=upload(build_docx(CAPTION, SECTIONS)))

    assert response.status_code == 200
    assert response.json() == {
        "case_name": "JANE ROE v. JOHN DOE",
        "cause_number": "2026-CI-01234",
        "court_name": "IN THE DISTRICT COURT OF TRAVIS COUNTY, TEXAS",
    }


@pytest.mark.parametrize("path", ["/parse", "/extract-caseblock"])
@pytest.mark.parametrize(
    "content, name",
    [
        (b"plain text, not a document", "notes.txt"),
        (b"%PDF-1.7 fake", "brief.pdf"),
        (b"PK\x03\x04 truncated zip", "broken.docx"),
        (b"", "empty.docx"),
    ],
)
def test_non_docx_upload_is_400_with_json_error(ingestion, path, content, name):
    response = ingestion.post(path, files=upload(content, name, "application/octet-stream"))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert name in response.json()["detail"]


def test_missing_file_field_is_422(ingestion):
    response = ingestion.post("/parse", data={"other": "value"})

    assert response.status_code == 422
