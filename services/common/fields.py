"""Field types every service's request bodies share, so the contract says what the database takes.

PostgreSQL cannot store NUL in text and both back ends hold ids in 32-bit signed integers;
a request outside those limits is a 422, documented in the schema, not a 500 from the driver.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2_147_483_647
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def text(max_length: int, *, blank: bool = False) -> object:
    """A string field of at most `max_length` characters, without NUL; non-blank unless `blank`."""
    if blank:
        return Field(max_length=max_length, pattern=NO_NUL)
    return Field(min_length=1, max_length=max_length, pattern=NOT_BLANK)


def path_id(name: str) -> object:
    """A path parameter holding a row id."""
    return Path(ge=1, le=MAX_ID, description=f"The {name}'s id")


def query_id(name: str) -> object:
    """An optional query parameter filtering by a row id."""
    return Query(ge=1, le=MAX_ID, description=f"Only those of this {name}")
