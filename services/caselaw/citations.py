"""Finding reporter citations in text: `123 S.W.3d 456 (Tex. 2004)`, `410 U.S. 113`.

A citation is volume, reporter, first page, an optional pin cite and an optional
parenthetical with the court and year. Reporters are matched whatever their spacing
(`S.W. 3d`, `S. W.3d`) and given back in their standard form (`S.W.3d`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPREME_COURT = "U.S."
SUPREME_COURT_REPORTERS = ["U.S.", "S. Ct.", "L. Ed.", "L. Ed. 2d"]
# federal, regional and state reporters: the court is in the parenthetical
OTHER_REPORTERS = """
F.  F.2d  F.3d  F.4th  F. Supp.  F. Supp. 2d  F. Supp. 3d  F. App'x
S.W.  S.W.2d  S.W.3d  N.E.  N.E.2d  N.E.3d  N.W.  N.W.2d  S.E.  S.E.2d
So.  So. 2d  So. 3d  P.  P.2d  P.3d  A.  A.2d  A.3d
Cal. Rptr.  Cal. Rptr. 2d  Cal. Rptr. 3d  N.Y.S.  N.Y.S.2d  N.Y.S.3d
""".replace("\n", "  ").split("  ")
# standard form -> the court it implies (None: the parenthetical says)
REPORTERS: dict[str, str | None] = {
    **dict.fromkeys(SUPREME_COURT_REPORTERS, SUPREME_COURT),
    **dict.fromkeys((name for name in OTHER_REPORTERS if name), None),
}


def _spacing_tolerant(reporter: str) -> str:
    """A pattern for `reporter` that allows or omits a space after each period."""
    pattern = ""
    for char in reporter:
        if char == " ":
            continue
        pattern += re.escape(char) + (r"\s?" if char == "." else "")
    return pattern


_BY_KEY = {reporter.replace(" ", ""): reporter for reporter in REPORTERS}
_REPORTER = "|".join(
    _spacing_tolerant(reporter) for reporter in sorted(REPORTERS, key=len, reverse=True)
)
CITATION = re.compile(
    rf"(?<![\w.])(?P<volume>\d{{1,4}})\s+(?P<reporter>{_REPORTER})\s*(?P<page>\d{{1,5}})\b"
    r"(?:,\s*(?P<pin>\d{1,5}(?:[-\u2013]\d{1,5})?))?"
    r"(?:\s*\((?P<court>[^()\d]{0,60}?)\s*(?P<year>1[6-9]\d\d|20\d\d)\))?",
    re.ASCII,
)


@dataclass(frozen=True)
class Citation:
    text: str
    start: int
    end: int
    volume: int
    reporter: str
    page: int
    pin: str | None
    court: str | None
    year: int | None

    @property
    def normalized(self) -> str:
        """Standard form: `123 S.W.3d 456 (Tex. 2004)`; the court is left out for U.S. reports."""
        cite = f"{self.volume} {self.reporter} {self.page}"
        if self.pin:
            cite += f", {self.pin}"
        parenthetical = [
            part
            for part in (
                None if REPORTERS[self.reporter] == SUPREME_COURT else self.court,
                str(self.year) if self.year else None,
            )
            if part
        ]
        return f"{cite} ({' '.join(parenthetical)})" if parenthetical else cite


def find_citations(text: str) -> list[Citation]:
    """Every citation in `text`, in order of appearance."""
    return [_citation(match) for match in CITATION.finditer(text)]


def _citation(match: re.Match[str]) -> Citation:
    reporter = _BY_KEY[re.sub(r"\s", "", match["reporter"])]
    court = " ".join(match["court"].split()) if match["court"] else None
    return Citation(
        text=match[0],
        start=match.start(),
        end=match.end(),
        volume=int(match["volume"]),
        reporter=reporter,
        page=int(match["page"]),
        pin=match["pin"],
        court=court or REPORTERS[reporter],
        year=int(match["year"]) if match["year"] else None,
    )
