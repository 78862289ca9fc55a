"""Checks for TOML tables: each mistake is one `ConfigError` line that names the key."""

from __future__ import annotations

import difflib
import tomllib
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


def string(table: dict[str, Any], name: str, key: str, default: str) -> str:
    value = table.get(name, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key}.{name}: must be a string, got {value!r}")
    return value


def positive_number(
    table: dict[str, Any], name: str, key: str, default: float, unit: str = "seconds"
) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}.{name}: must be a positive number of {unit}, got {value!r}")
    return float(value)
