"""caselaw: finds legal citations in text and gives them back normalised."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from services.caselaw.citations import REPORTERS, find_citations
from services.common.web import create_app

app = create_app("caselaw", "Finds and normalises legal citations in text.", version="1.0.0")


class TextIn(BaseModel):
    text: Annotated[str, Field(max_length=200_000)]


class CitationOut(BaseModel):
    text: str = Field(description="The citation as it appears in the text")
    start: int = Field(description="Offset of its first character in the text")
    end: int = Field(description="Offset just past its last character")
    volume: int
    reporter: str = Field(description="Standard form, e.g. S.W.3d")
    page: int
    pin: str | None
    court: str | None
    year: int | None
    normalized: str


class CitationsOut(BaseModel):
    count: int
    citations: list[CitationOut]


class Reporter(BaseModel):
    reporter: str
    court: str | None = Field(description="The court the reporter implies, if any")


@app.post("/citations", response_model=CitationsOut)
def extract_citations(body: TextIn) -> CitationsOut:
    citations = [
        CitationOut(**vars(citation), normalized=citation.normalized)
        for citation in find_citations(body.text)
    ]
    return CitationsOut(count=len(citations), citations=citations)


@app.get("/reporters", response_model=list[Reporter])
def list_reporters() -> list[Reporter]:
    return [Reporter(reporter=name, court=court) for name, court in REPORTERS.items()]
