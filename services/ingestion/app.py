"""ingestion: parses an uploaded .docx into sections and metadata; extracts the case block."""

from __future__ import annotations

from fastapi import UploadFile
from pydantic import BaseModel

from services.common.documents import UPLOAD_ERRORS, read_docx
from services.common.web import create_app
from services.ingestion import parsing

app = create_app(
    "ingestion", "Parses .docx uploads into sections, metadata and case blocks.", "1.0.0"
)


class ParsedSection(BaseModel):
    id: int
    level: int
    title: str
    content: str


class ParsedDocument(BaseModel):
    filename: str | None
    sections: list[ParsedSection]
    metadata: dict[str, str | int | None]


class CaseBlock(BaseModel):
    case_name: str | None
    cause_number: str | None
    court_name: str | None


@app.post("/parse", response_model=ParsedDocument, responses=UPLOAD_ERRORS)
async def parse(file: UploadFile) -> dict[str, object]:
    document = await read_docx(file)
    return {
        "filename": file.filename,
        "sections": parsing.sections(document),
        "metadata": parsing.metadata(document),
    }


@app.post("/extract-caseblock", response_model=CaseBlock, responses=UPLOAD_ERRORS)
async def extract_caseblock(file: UploadFile) -> dict[str, str | None]:
    return parsing.case_block(await read_docx(file))
