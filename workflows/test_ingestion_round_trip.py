"""Ingestion round trip: a .docx -> ingestion parses it and creates a template in records ->
a case and a draft from it -> export gives back the same section titles."""

from __future__ import annotations

import io

from steps import created

from services.common.documents import DOCX_MEDIA_TYPE, build_docx

SECTIONS = [
    ("Parties", ["Plaintiff is Jane Roe."]),
    ("Facts", ["The lease ended.", "Rent is unpaid."]),
    ("Prayer", ["Plaintiff asks for judgment."]),
]


def test_document_to_template_to_export_keeps_section_titles(
    service_clients, records, make_case, unique
):
    ingestion, export = service_clients["ingestion"], service_clients["export"]
    source = build_docx([], SECTIONS, title="Petition")

    template = created(
        ingestion.post(
            "/templates",
            files={"file": ("petition.docx", source, DOCX_MEDIA_TYPE)},
            data={"name": unique("Imported petition")},
        )
    )
    assert [s["title"] for s in template["sections"]] == ["Parties", "Facts", "Prayer"]
    case = make_case(template_id=template["id"])
    draft = created(records.post(f"/cases/{case['id']}/drafts", json={"title": "Petition"}))

    exported = export.post("/export", json={"draft_id": draft["id"]})
    assert exported.status_code == 200
    reparsed = created(
        ingestion.post(
            "/parse", files={"file": ("export.docx", io.BytesIO(exported.content), DOCX_MEDIA_TYPE)}
        ),
        200,
    )

    titles = [s["title"] for s in reparsed["sections"]]
    # the export adds the caption (parsed as a preamble) and the draft's title
    assert titles == ["Preamble", "Petition", "Parties", "Facts", "Prayer"]
    contents = {s["title"]: s["content"] for s in reparsed["sections"]}
    assert contents["Facts"] == "The lease ended.\nRent is unpaid."
