"""Checks for TOML tables: each mistake is one `ConfigError` line that names the key."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.exceptions import ConfigError


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


def reject_unknown(table: dict[str, Any], allowed: set[str], key: str) -> None:
    for name in table:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}: unknown key{did_you_mean(name, allowed)}")


def did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def table_at(table: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    """The sub-table `name` ({} when absent); a ConfigError when it is not a table."""
    value = table.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}.{name}: must be a table")
    return value


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


def string(table: dict[str, Any], name: str, key: str, default: str) -> str:
    value = table.get(name, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key}.{name}: must be a string, got {value!r}")
    return value


def boolean(table: dict[str, Any], name: str, key: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}.{name}: must be true or false, got {value!r}")
    return value


def positive_number(
    table: dict[str, Any], name: str, key: str, default: float, unit: str = "seconds"
) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}.{name}: must be a positive number of {unit}, got {value!r}")
    return float(value)


def command(value: Any, key: str, example: str) -> list[str]:
    """A command as a non-empty list of strings; missing, the error shows `example`."""
    if value is None:
        raise ConfigError(f"{key}: missing; give the command as a list, e.g. {example}")
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"{key}: must be a non-empty list of strings")
    return value


def listening_command(value: Any, key: str, example: str) -> list[str]:
    """A command that listens on the port harness chooses: it holds `{port}`."""
    arguments = command(value, key, example)
    if not any("{port}" in argument for argument in arguments):
        raise ConfigError(f"{key}: no '{{port}}' placeholder; harness chooses the port")
    return arguments


def port(table: dict[str, Any], key: str) -> int | None:
    """An optional fixed port, outside the privileged range."""
    value = table.get("port")
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 65535
    ):
        raise ConfigError(f"{key}.port: must be an integer from 1024 to 65535, got {value!r}")
    return value


def names(table: dict[str, Any], option: str, key: str, what: str) -> list[str]:
    """An optional list of names (`what`: "service names")."""
    value = table.get(option, [])
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(f"{key}.{option}: must be a list of {what}")
    return value
