"""export: a draft fetched from records, rendered to a real .docx."""

from __future__ import annotations

import io

import docx
import httpx
import pytest

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def draft(service_clients, case):
    response = service_clients["records"].post(
        "/drafts",
        json={
            "case_id": case["id"],
            "title": "Original Petition",
            "sections": [
                {"title": "Discovery Control Plan", "content": "Level 2 applies.\nSecond line."},
                {"title": "Prayer", "content": "Plaintiff asks for judgment."},
            ],
        },
    )
    assert response.status_code == 201
    return response.json()


def test_export_returns_a_docx_that_opens_with_the_draft_text(service_clients, case, draft):
    response = service_clients["export"].post("/export", json={"draft_id": draft["id"]})

    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX
    assert response.content[:4] == b"PK\x03\x04"
    document = docx.Document(io.BytesIO(response.content))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert "Original Petition" in texts
    assert texts.index("Discovery Control Plan") < texts.index("Prayer")
    assert "Level 2 applies." in texts
    assert case["case_name"] in texts


def test_the_longest_title_the_contract_allows_exports_whole_with_a_core_title_word_can_hold(
    service_clients, case
):
    title = "Amended Petition " + "x" * 283  # 300 characters, records' limit
    response = service_clients["records"].post(
        "/drafts", json={"case_id": case["id"], "title": title, "sections": []}
    )
    assert response.status_code == 201

    exported = service_clients["export"].post("/export", json={"draft_id": response.json()["id"]})

    assert exported.status_code == 200
    document = docx.Document(io.BytesIO(exported.content))
    assert document.core_properties.title == title[:255]  # Word's limit for a core property
    assert title in [paragraph.text for paragraph in document.paragraphs]


def test_export_of_unknown_draft_is_404(service_clients):
    response = service_clients["export"].post("/export", json={"draft_id": 999999999})

    assert response.status_code == 404
    assert "999999999" in response.json()["detail"]


@pytest.mark.parametrize("payload", [{}, {"draft_id": "abc"}, {"draft": 1}])
def test_export_with_invalid_body_is_422(service_clients, payload):
    response = service_clients["export"].post("/export", json=payload)

    assert response.status_code == 422
    assert response.json()["detail"]


def test_export_when_records_is_unreachable_is_503_with_json_error(without_records):
    response = httpx.post(f"{without_records('export')}/export", json={"draft_id": 1}, timeout=30)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert "records is unreachable" in response.json()["detail"]
