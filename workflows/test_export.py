"""Export: case -> draft with sections -> .docx, read back with python-docx."""

from __future__ import annotations

import io

import docx
from steps import created

SECTIONS = [
    {"title": "Parties", "content": "Plaintiff is Jane Roe.\nDefendant is John Doe.", "level": 1},
    {"title": "Facts", "content": "The lease ended on January 5.", "level": 1},
    {"title": "Damages", "content": "Rent of $4,000 is unpaid.", "level": 2},
]


def test_draft_exported_to_docx_has_caption_titles_and_paragraphs_in_order(
    service_clients, records, case, unique
):
    title = unique("Original Petition")
    draft = created(
        records.post("/drafts", json={"case_id": case["id"], "title": title, "sections": SECTIONS})
    )

    response = service_clients["export"].post("/export", json={"draft_id": draft["id"]})

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="draft-{draft["id"]}.docx"'
    )
    document = docx.Document(io.BytesIO(response.content))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text.strip()]
    assert paragraphs == [
        ("Normal", case["court_name"]),
        ("Normal", case["case_name"]),
        ("Normal", f"Cause No. {case['cause_number']}"),
        ("Title", title),
        ("Heading 1", "Parties"),
        ("Normal", "Plaintiff is Jane Roe."),
        ("Normal", "Defendant is John Doe."),
        ("Heading 1", "Facts"),
        ("Normal", "The lease ended on January 5."),
        ("Heading 2", "Damages"),
        ("Normal", "Rent of $4,000 is unpaid."),
    ]
    assert document.core_properties.title == title


def test_export_reflects_the_latest_saved_version(service_clients, records, case):
    draft = created(records.post("/drafts", json={"case_id": case["id"], "title": "First"}))
    created(records.put(f"/drafts/{draft['id']}", json={"version": 1, "title": "Second"}), 200)

    response = service_clients["export"].post("/export", json={"draft_id": draft["id"]})

    assert docx.Document(io.BytesIO(response.content)).core_properties.title == "Second"
