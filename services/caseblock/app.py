"""caseblock: formats a case caption (case name, cause number, court, parties)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from services.caseblock.formatting import Caption, caption_lines
from services.common.fields import text
from services.common.web import create_app

app = create_app("caseblock", "Formats case captions from case data.", version="1.0.0")
Party = Annotated[str, text(200)]
Parties = Annotated[list[Party], Field(min_length=1, max_length=20)]


class CaptionIn(BaseModel):
    case_name: Annotated[str, text(300)]
    cause_number: Annotated[str, text(100)]
    court_name: Annotated[str, text(300)]
    county: Annotated[str, text(100)]
    state: Annotated[str, text(100)] = "Texas"
    plaintiffs: Parties
    defendants: Parties


class CaptionOut(BaseModel):
    case_name: str
    cause_number: str
    court: str
    plaintiffs: list[str]
    defendants: list[str]
    lines: list[str]
    text: str


def _one_line(value: str) -> str:
    """Runs of whitespace, newlines included, become one space: a caption line stays one line."""
    return " ".join(value.split())


@app.post("/caseblock", response_model=CaptionOut)
def format_caseblock(body: CaptionIn) -> CaptionOut:
    caption = Caption(
        case_name=_one_line(body.case_name),
        cause_number=_one_line(body.cause_number),
        court_name=_one_line(body.court_name),
        county=_one_line(body.county),
        state=_one_line(body.state),
        plaintiffs=[_one_line(name) for name in body.plaintiffs],
        defendants=[_one_line(name) for name in body.defendants],
    )
    lines = caption_lines(caption)
    return CaptionOut(
        case_name=caption.case_name,
        cause_number=caption.cause_number,
        court=f"{caption.court_name}, {caption.county} County, {caption.state}",
        plaintiffs=caption.plaintiffs,
        defendants=caption.defendants,
        lines=lines,
        text="\n".join(lines),
    )
