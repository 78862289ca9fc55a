"""caselaw: finds legal citations in text and gives them back normalised."""

from __future__ import annotations

from typing import Annotated

from fastapi import Response
from pydantic import BaseModel, Field

from services.caselaw import cache
from services.caselaw.citations import REPORTERS, find_citations
from services.common.web import create_app

app = create_app("caselaw", "Finds and normalises legal citations in text.", version="1.1.0")
CACHE_HEADER = {
    "X-Cache": {
        "required": True,
        "schema": {"type": "string", "enum": [state.value for state in cache.CacheState]},
        "description": "hit: from the cache; miss: found now and cached; unavailable: found "
        "now, the cache being unreachable",
    }
}


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


@app.post(
    "/citations",
    response_model=CitationsOut,
    responses={200: {"description": "The citations found", "headers": CACHE_HEADER}},
)
def extract_citations(body: TextIn) -> Response:
    """The citations in the text, from the cache when it has them (see X-Cache)."""
    state, answer = cache.cached(body.text)
    if answer is None:
        citations = [
            CitationOut(**vars(citation), normalized=citation.normalized)
            for citation in find_citations(body.text)
        ]
        answer = CitationsOut(count=len(citations), citations=citations).model_dump_json().encode()
        if state is cache.CacheState.MISS:
            cache.keep(body.text, answer)
    return Response(answer, media_type="application/json", headers={"X-Cache": state})


@app.get("/reporters", response_model=list[Reporter])
def list_reporters() -> list[Reporter]:
    return [Reporter(reporter=name, court=court) for name, court in REPORTERS.items()]
