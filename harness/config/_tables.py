"""Checks for TOML tables: each mistake is one `ConfigError` line that names the key."""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from harness.exceptions import ConfigError

Table = TypeVar("Table", bound=msgspec.Struct)
_ERROR = re.compile(r"(?P<what>.*?)(?: - at `\$(?P<path>.*)`)?", re.S)
_NAMED = re.compile(r"Object (?P<kind>contains unknown|missing required) field `(?P<name>[^`]*)`")
Seconds = Annotated[float, Meta(gt=0, description="must be a positive number of seconds")]
Count = Annotated[int, Meta(ge=1, description="must be a whole number of at least 1")]
Port = Annotated[int, Meta(ge=1024, le=65535, description="must be an integer from 1024 to 65535")]
Names = Annotated[list[str], Meta(description="must be a list of names")]
Environment = Annotated[dict[str, str], Meta(description="must be a table of strings")]
Command = Annotated[
    list[str], Meta(min_length=1, description="must be a command: a non-empty list of strings")
]
_PLAIN = {  # msgspec's expected type -> the words a TOML user knows
    "str": "must be a string",
    "bool": "must be true or false",
    "int": "must be a whole number",
    "float": "must be a number",
    "array": "must be a list",
    "object": "must be a table",
}


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's content, or a ConfigError naming the file and what is wrong with it."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def typed(raw: Any, model: type[Table], key: str) -> Table:
    """The TOML table `raw` at `key` as `model` (a msgspec Struct: its fields, their types and
    `Meta` constraints); a mistake is one ConfigError line naming the key, saying what the
    field must be (its Meta description) and what it got."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table, got {raw!r}")
    try:
        return msgspec.convert(raw, model, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(_one_line(str(exc), raw, model, key)) from None


def _one_line(error: str, raw: dict[str, Any], model: type, key: str) -> str:
    """msgspec's `error` about `raw` as harness's one line, the key spelt as in TOML."""
    parsed = _ERROR.fullmatch(error)
    assert parsed is not None  # the pattern matches any text
    what, path = parsed["what"], parsed["path"] or ""
    fields = re.sub(r"\[[^]]*\]", "", path).split(".")[1:]  # `$.a[0].b[...]` -> a, b
    named = _NAMED.match(what)
    if named and named["kind"] == "contains unknown":
        owner = _walk(model, raw, fields)[0]
        known = [f.encode_name for f in msgspec.structs.fields(owner)]
        where = ".".join([key, *fields, named["name"]])
        return f"{where}: unknown key{did_you_mean(named['name'], known)}"
    if named:
        fields.append(named["name"])
    owner, table = _walk(model, raw, fields[:-1])
    name = fields[-1] if fields else ""
    description = _description(owner, name)
    where = ".".join([key, *fields])
    if named:
        return f"{where}: missing" + (f"; it {description}" if description else "")
    if description is None:  # msgspec's words, of the field or of each of its entries
        description = ("each entry " if path.endswith("]") else "") + _plain(what)
    got = table.get(name) if isinstance(table, dict) else table
    return f"{where}: {description}, got {got!r}"


def _walk(model: type, raw: Any, fields: list[str]) -> tuple[type, Any]:
    """The Struct type and the raw value at the path of nested `fields`."""
    for name in fields:
        inner = _field_struct(model, name)
        if inner is None:
            break
        model, raw = inner, raw.get(name, {}) if isinstance(raw, dict) else raw
    return model, raw


def _field_struct(model: type, name: str) -> type | None:
    """The Struct type of the field encoded as `name` (through `| None`), if it is one."""
    for field in msgspec.structs.fields(model):
        if field.encode_name == name:
            for candidate in (field.type, *typing.get_args(field.type)):
                if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
                    return candidate
    return None


def _description(model: type, name: str) -> str | None:
    """The `Meta(description=…)` on the field encoded as `name`, through `| None`."""
    hints = typing.get_type_hints(model, include_extras=True)
    for field in msgspec.structs.fields(model):
        if field.encode_name == name:
            for hint in (hints[field.name], *typing.get_args(hints[field.name])):
                for meta in getattr(hint, "__metadata__", ()):
                    if isinstance(meta, msgspec.Meta) and meta.description:
                        return meta.description
    return None


def _plain(what: str) -> str:
    """msgspec's own words, its type names said as a TOML user would when only the type is
    wrong ("Expected `str`, got `int`"); a broken constraint keeps msgspec's text."""
    expected = re.match(r"Expected `(\w+)(?: \| null)?`, got", what)
    if expected and expected[1] in _PLAIN:
        return _PLAIN[expected[1]]
    return what[:1].lower() + what[1:]


def did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def member_table(
    raw: Any, name: str, kind: str, taken: Mapping[str, str], key: str
) -> dict[str, Any]:
    """The table of the `kind` (a server, a stub) called `name`: a name of letters, digits,
    '-' and '_', not `taken` already (name -> what it names)."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{key}: a {kind} name may only hold letters, digits, '-' and '_'")
    if name in taken:
        raise ConfigError(
            f"{key}: {name!r} is already a {taken[name]}; give the {kind} another name"
        )
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    return raw


def listening_command(command: list[str], key: str) -> tuple[str, ...]:
    """A command that listens on the port harness chooses: it holds `{port}`."""
    if not any("{port}" in argument for argument in command):
        raise ConfigError(f"{key}: no '{{port}}' placeholder; harness chooses the port")
    return tuple(command)
