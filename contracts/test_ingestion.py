"""ingestion: .docx uploads to sections, metadata and case blocks; anything else is 400."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from services.common.documents import build_docx

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
    assert metadata["title"] == "Test document"
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


@pytest.fixture(scope="module")
def huge_text_node() -> bytes:
    """A small .docx (deflated) whose one paragraph is 10,000,001 characters."""
    return build_docx(["x" * 10_000_001], [])


def malformed_xml() -> bytes:
    """A .docx whose document.xml is cut off half-way."""
    source = zipfile.ZipFile(io.BytesIO(build_docx(CAPTION, SECTIONS)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info, data[: len(data) // 2] if info.filename == "word/document.xml" else data
            )
    return buffer.getvalue()


@pytest.mark.parametrize("path", ["/parse", "/extract-caseblock", "/templates"])
def test_a_docx_with_a_text_node_too_long_to_parse_is_400(ingestion, huge_text_node, path):
    response = ingestion.post(path, files=upload(huge_text_node, "huge.docx"), data={"name": "x"})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "'huge.docx' is not a readable .docx file: a text node is longer than the "
        "10,000,000 characters its XML parser reads"
    )


@pytest.mark.parametrize("path", ["/parse", "/extract-caseblock", "/templates"])
def test_a_docx_with_malformed_xml_is_400(ingestion, path):
    response = ingestion.post(path, files=upload(malformed_xml(), "cut.docx"), data={"name": "x"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "'cut.docx' is not a readable .docx file: its XML cannot be parsed"
    )


def test_missing_file_field_is_422(ingestion):
    response = ingestion.post("/parse", data={"other": "value"})

    assert response.status_code == 422


def test_template_from_document_is_created_in_records(ingestion, service_clients, unique):
    name = unique("imported")

    response = ingestion.post(
        "/templates", files=upload(build_docx(CAPTION, SECTIONS)), data={"name": name}
    )

    assert response.status_code == 201
    created = response.json()
    assert [section["title"] for section in created["sections"]] == ["Preamble", "Parties", "Facts"]
    stored = service_clients["records"].get(f"/templates/{created['id']}").json()
    assert stored["name"] == name
    assert stored["sections"] == created["sections"]
    assert stored["sections"][1]["content"] == "Plaintiff is Jane Roe.\nDefendant is John Doe."


def test_template_from_document_with_an_overlong_heading_is_400(ingestion, unique):
    document = build_docx([], [("H" * 301, ["text"])])

    response = ingestion.post("/templates", files=upload(document), data={"name": unique("t")})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "section 1's heading is 301 characters; a template's section titles hold at "
        "most 300"
    }


@pytest.mark.parametrize("data", [{}, {"name": ""}, {"name": "x" * 201}])
def test_template_from_document_needs_a_name_of_1_to_200_characters(ingestion, data):
    response = ingestion.post("/templates", files=upload(build_docx([], SECTIONS)), data=data)

    assert response.status_code == 422


def test_template_from_document_without_records_is_503(without_records):
    url = without_records("ingestion")

    response = httpx.post(
        f"{url}/templates",
        files=upload(build_docx([], SECTIONS)),
        data={"name": "Lost"},
        timeout=30,
    )

    assert response.status_code == 503
    assert "records is unreachable" in response.json()["detail"]
