"""A draft (as records returns it) rendered to .docx bytes."""

from __future__ import annotations

import io
import re
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH

CORE_PROPERTY_LIMIT = 255  # characters python-docx (and Word) allow in a core property
# characters XML 1.0 cannot hold: control characters other than tab, newline, return
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """`text` without the characters a .docx (XML) cannot hold; records accepts them."""
    return NOT_XML.sub("", text)


def render_draft(draft: dict[str, Any], case: dict[str, Any] | None) -> bytes:
    """Caption (when the case is known), title, then each section's heading and paragraphs."""
    document = docx.Document()
    document.core_properties.title = _xml(draft["title"])[:CORE_PROPERTY_LIMIT]
    if case is not None:
        for line in (case["court_name"], case["case_name"], f"Cause No. {case['cause_number']}"):
            document.add_paragraph(_xml(line)).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(_xml(draft["title"]), level=0)
    for section in draft.get("sections", []):
        level = min(max(section.get("level", 1), 1), 9)
        document.add_heading(_xml(section["title"]), level=level)
        for paragraph in _xml(section.get("content", "")).split("\n"):
            if paragraph.strip():
                document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
