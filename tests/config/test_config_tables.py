"""`typed`: a TOML table read by a msgspec Struct, each mistake one line naming the key."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from msgspec import Meta

from harness.config import typed
from harness.exceptions import ConfigError


class _Inner(msgspec.Struct, forbid_unknown_fields=True):
    level: Annotated[int, Meta(ge=1, description="must be a level of at least 1")] = 1


class _Outer(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    inner: _Inner = msgspec.field(default_factory=_Inner)
    sizes: Annotated[list[Annotated[int, Meta(ge=0)]], Meta(description="must be sizes")] = []
    counts: list[Annotated[int, Meta(ge=0)]] = []
    labels: dict[str, str] = {}
    note: str | None = None


def _error(raw: object) -> str:
    with pytest.raises(ConfigError) as caught:
        typed(raw, _Outer, "things.one")
    return str(caught.value)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"name": "a", "nmae": "b"}, "things.one.nmae: unknown key; did you mean 'name'?"),
        (
            {"name": "a", "inner": {"levle": 2}},
            "things.one.inner.levle: unknown key; did you mean 'level'?",
        ),
        ({}, "things.one.name: missing"),
        (
            {"name": "a", "inner": {"level": 0}},
            "things.one.inner.level: must be a level of at least 1, got 0",
        ),
        ({"name": "a", "sizes": [1, -2]}, "things.one.sizes: must be sizes, got [1, -2]"),
        (
            {"name": "a", "labels": {"x": 3}},
            "things.one.labels: each entry must be a string, got {'x': 3}",
        ),
        (
            {"name": "a", "counts": [-1]},
            "things.one.counts: each entry expected `int` >= 0, got [-1]",
        ),
        ({"name": "a", "note": 3}, "things.one.note: must be a string, got 3"),
        ({"name": True}, "things.one.name: must be a string, got True"),
        ("a", "things.one: must be a table, got 'a'"),
    ],
)
def test_each_mistake_is_one_line_with_the_key_what_it_must_be_and_what_it_got(raw, message):
    assert _error(raw) == message


def test_a_good_table_is_the_struct_with_its_defaults():
    assert typed({"name": "a", "sizes": [3]}, _Outer, "things.one") == _Outer(name="a", sizes=[3])
