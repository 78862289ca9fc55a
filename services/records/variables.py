"""`{{ name }}` placeholders in a template's sections, resolved from a case's variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def placeholders(sections: list[dict[str, Any]]) -> set[str]:
    """Every variable name the sections' titles and contents refer to."""
    return {
        match.group(1)
        for section in sections
        for field in ("title", "content")
        for match in PLACEHOLDER.finditer(section.get(field, ""))
    }


def resolve(sections: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    """The sections with every placeholder replaced; each name must be in `values`."""

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return [
        {
            **section,
            "title": PLACEHOLDER.sub(value, section["title"]),
            "content": PLACEHOLDER.sub(value, section.get("content", "")),
        }
        for section in sections
    ]
