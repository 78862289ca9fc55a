"""Reading uploaded .docx files, shared by the services that accept them."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.document import Document
from fastapi import HTTPException, UploadFile

from services.common.web import error_responses

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_ERRORS = error_responses(400, 413)


async def read_docx(upload: UploadFile) -> Document:
    """The uploaded file as a python-docx Document; 400 when it is not a .docx."""
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
