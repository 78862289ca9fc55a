"""Exhibit letters: 1 -> A, 26 -> Z, 27 -> AA, 28 -> AB, … (bijective base 26)."""

from __future__ import annotations

import string


def letter(position: int) -> str:
    """The letter(s) of the exhibit at this 1-based position."""
    if position < 1:
        raise ValueError(f"exhibit positions start at 1, not {position}")
    letters = ""
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters
