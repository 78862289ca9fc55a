"""ingestion: parses an uploaded .docx into sections and metadata; extracts the case block;
turns a document into a template in records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, HTTPException, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from services.common.documents import UPLOAD_ERRORS, read_docx
from services.common.fields import text
from services.common.service_client import DEPENDENCY_ERRORS, ServiceClient
from services.common.web import create_app, error_responses
from services.ingestion import parsing

app = create_app(
    "ingestion", "Parses .docx uploads into sections, metadata and case blocks.", "1.1.0"
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


MAX_TITLE = 300  # what records takes for a section title


class TemplateFromDocument(BaseModel):
    """The template records created; its sections are the document's."""

    id: int
    name: str
    sections: list[dict[str, Any]]


def _template_sections(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parsed sections as records takes them: a preamble (level 0) becomes level 1."""
    for section in parsed:
        if len(section["title"]) > MAX_TITLE:
            raise HTTPException(
                400,
                f"section {section['id']}'s heading is {len(section['title'])} characters; "
                f"a template's section titles hold at most {MAX_TITLE}",
            )
    return [
        {"title": s["title"], "content": s["content"], "level": max(s["level"], 1)} for s in parsed
    ]


def _create_template(name: str, sections: list[dict[str, Any]]) -> dict[str, Any]:
    with ServiceClient("records") as records:
        return records.post("/templates", {"name": name, "sections": sections})


@app.post(
    "/templates",
    status_code=201,
    response_model=TemplateFromDocument,
    responses={**UPLOAD_ERRORS, **error_responses(*DEPENDENCY_ERRORS)},
)
async def create_template(
    file: UploadFile, name: Annotated[str, Form(), text(200)]
) -> dict[str, Any]:
    """Parse the document and create a template named `name` in records from its sections.

    Not repeated when records fails half-way: a 502 then says it may exist already.
    """
    sections = _template_sections(parsing.sections(await read_docx(file)))
    return await run_in_threadpool(_create_template, name, sections)
