"""A draft (as records returns it) rendered to .docx bytes."""

from __future__ import annotations

import io
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH


def render_draft(draft: dict[str, Any], case: dict[str, Any] | None) -> bytes:
    """Caption (when the case is known), title, then each section's heading and paragraphs."""
    document = docx.Document()
    document.core_properties.title = draft["title"]
    if case is not None:
        for line in (case["court_name"], case["case_name"], f"Cause No. {case['cause_number']}"):
            document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(draft["title"], level=0)
    for section in draft.get("sections", []):
        document.add_heading(section["title"], level=min(max(section.get("level", 1), 1), 9))
        for paragraph in section.get("content", "").split("\n"):
            if paragraph.strip():
                document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
