"""Turning a Word document into sections, metadata and a case block."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from docx.document import Document

_CAUSE_NUMBER = re.compile(r"\b(?:cause|case)\s+(?:no\.?|number)\s*:?\s*([A-Z0-9][\w\-./]*)", re.I)
_CASE_NAME = re.compile(r"\b(?:v\.|vs\.?|versus)\s", re.I)
_COURT = re.compile(r"\bcourt\b", re.I)


@dataclass
class Section:
    id: int
    level: int
    title: str
    content: str = ""
    paragraphs: list[str] = field(default_factory=list, repr=False)


def heading_level(style_name: str) -> int | None:
    """1 for 'Title' or 'Heading 1', N for 'Heading N', None for body text."""
    if style_name == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style_name)
    return int(match.group(1)) if match else None


def sections(document: Document) -> list[dict[str, object]]:
    """Sections in document order; text before the first heading becomes a preamble."""
    found: list[Section] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        level = heading_level(paragraph.style.name if paragraph.style is not None else "")
        if level is not None and text:
            found.append(Section(id=len(found) + 1, level=level, title=text))
        elif text:
            if not found:
                found.append(Section(id=1, level=0, title="Preamble"))
            found[-1].paragraphs.append(text)
    result = []
    for section in found:
        section.content = "\n".join(section.paragraphs)
        item = asdict(section)
        del item["paragraphs"]
        result.append(item)
    return result


def metadata(document: Document) -> dict[str, object]:
    """Core properties and counts."""
    properties = document.core_properties
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    return {
        "title": properties.title or None,
        "author": properties.author or None,
        "paragraph_count": len(texts),
        "word_count": sum(len(text.split()) for text in texts),
        "table_count": len(document.tables),
    }


def case_block(document: Document) -> dict[str, str | None]:
    """Case name, cause number and court name from the caption, None where absent."""
    lines = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        lines += [
            cell.text.strip() for row in table.rows for cell in row.cells if cell.text.strip()
        ]
    cause_number = next((m.group(1) for m in map(_CAUSE_NUMBER.search, lines) if m), None)
    case_name = next((line for line in lines if _CASE_NAME.search(line)), None)
    court_name = next(
        (line for line in lines if _COURT.search(line) and not _CAUSE_NUMBER.search(line)), None
    )
    return {"case_name": case_name, "cause_number": cause_number, "court_name": court_name}
