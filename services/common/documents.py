"""Reading uploaded .docx files, shared by the services that accept them; building one."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.document import Document
from fastapi import HTTPException, UploadFile
from lxml import etree

from services.common.web import ErrorBody, error_responses

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
XML_MAX_TEXT = 10_000_000  # libxml2's limit on one text node without XML_PARSE_HUGE
UPLOAD_ERRORS = {
    **error_responses(413),
    400: {
        "model": ErrorBody,
        "description": (
            "The upload is not a readable .docx file (not a zip archive or Word document, "
            f"malformed XML, a text node over {XML_MAX_TEXT:,} characters), or what it holds "
            "cannot be carried out"
        ),
    },
}


async def read_docx(upload: UploadFile) -> Document:
    """The uploaded file as a python-docx Document; 400 when it is not a .docx, or one whose
    XML is malformed or has a text node too long to parse."""
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"file is larger than {MAX_UPLOAD_BYTES} bytes")
    if not content.startswith(b"PK\x03\x04"):
        raise HTTPException(400, f"{upload.filename!r} is not a .docx file (not a zip archive)")
    try:
        return docx.Document(io.BytesIO(content))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise HTTPException(
            400, f"{upload.filename!r} is not a readable .docx file: {exc}"
        ) from None
    except etree.XMLSyntaxError as exc:
        reason = (
            f"a text node is longer than the {XML_MAX_TEXT:,} characters its XML parser reads"
            if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT
            else f"its XML cannot be parsed ({exc.msg})"
        )
        raise HTTPException(
            400, f"{upload.filename!r} is not a readable .docx file: {reason}"
        ) from None


def build_docx(
    caption: list[str], sections: list[tuple[str, list[str]]], title: str = "Test document"
) -> bytes:
    """A real Word document: caption paragraphs, then a heading and paragraphs per section."""
    document = docx.Document()
    document.core_properties.title = title
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
