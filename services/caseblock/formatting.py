"""A Texas-style case caption as lines: cause number, parties on the left, court on the right.

Values arrive on one line each (the app collapses whitespace).
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMN_WIDTH = 40
SEPARATOR = "§"


@dataclass(frozen=True)
class Caption:
    case_name: str
    cause_number: str
    court_name: str
    county: str
    state: str
    plaintiffs: list[str]
    defendants: list[str]


def party_lines(names: list[str], role: str) -> list[str]:
    """'JANE ROE,' … then the role ('Plaintiff', or 'Plaintiffs' when there are several)."""
    label = role if len(names) == 1 else f"{role}s"
    return [f"{name.upper()}," for name in names] + [f"    {label}."]


def court_lines(caption: Caption) -> list[str]:
    return [
        f"IN THE {caption.court_name.upper()}",
        "",
        f"{caption.county.upper()} COUNTY, {caption.state.upper()}",
    ]


def caption_lines(caption: Caption) -> list[str]:
    """Parties and court side by side, split by a column of § signs, under the cause number."""
    left = [
        *party_lines(caption.plaintiffs, "Plaintiff"),
        "",
        "v.",
        "",
        *party_lines(caption.defendants, "Defendant"),
    ]
    right = court_lines(caption)
    top = (len(left) - len(right)) // 2
    right = [""] * top + right + [""] * (len(left) - len(right) - top)
    body = [
        f"{party:<{COLUMN_WIDTH}}{SEPARATOR}  {court}".rstrip()
        for party, court in zip(left, right, strict=True)
    ]
    return [f"CAUSE NO. {caption.cause_number}", "", *body]
