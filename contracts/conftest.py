"""Shared pieces of the contract tests: unique names and .docx files built in memory."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import docx
import pytest


@pytest.fixture
def unique() -> Callable[[str], str]:
    """`unique("template")` -> 'template-3f2a…': data no other test can collide with."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def case(service_clients, unique):
    """A case in records, unique to the test."""
    records = service_clients["records"]
    response = records.post(
        "/cases",
        json={
            "case_name": f"{unique('Roe')} v. Doe",
            "cause_number": unique("2026-CI"),
            "court_name": "District Court of Travis County, Texas",
        },
    )
    assert response.status_code == 201
    return response.json()


def build_docx(caption: list[str], sections: list[tuple[str, list[str]]]) -> bytes:
    """A real Word document: caption paragraphs, then a heading and paragraphs per section."""
    document = docx.Document()
    document.core_properties.title = "Contract test document"
    document.core_properties.author = "harness"
    for line in caption:
        document.add_paragraph(line)
    for title, paragraphs in sections:
        document.add_heading(title, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
