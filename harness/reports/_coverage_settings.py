"""The coverage settings every process of a run is measured with.

A project's own `[tool.coverage]` tables are kept; harness sets on top what measuring
services started by another process needs (data per process, saved on SIGTERM, paths
relative to the project root, subprocesses followed, branch coverage unless the project
says otherwise), so an adopter needs no coverage keys of its own. The result is written
as an rc file beside the run's data and named by `COVERAGE_PROCESS_START`.
"""

from __future__ import annotations

import configparser
import io
import os
import tomllib
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig

REQUIRED_RUN = {"parallel": True, "sigterm": True, "relative_files": True, "patch": ["subprocess"]}


def coverage_settings(config: HarnessConfig) -> dict[str, dict[str, Any]]:
    """Section -> options: the project's [tool.coverage] with harness's required options."""
    pyproject = config.root / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text()) if pyproject.is_file() else {}
    sections: dict[str, dict[str, Any]] = {
        name: dict(options)
        for name, options in project.get("tool", {}).get("coverage", {}).items()
        if isinstance(options, dict)
    }
    run = sections.setdefault("run", {})
    run.setdefault("branch", True)
    run.update(REQUIRED_RUN)
    return sections


def write_coverage_settings(config: HarnessConfig, path: Path) -> Path:
    """Write the settings to `path` as a coverage rc file (atomically); returns `path`."""
    parser = configparser.ConfigParser(interpolation=None)
    for section, options in coverage_settings(config).items():
        parser[section] = {name: _rc_value(value) for name, value in options.items()}
    text = io.StringIO()
    parser.write(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text.getvalue())
    temporary.replace(path)
    return path


def _rc_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "\n" + "\n".join(map(str, value))
    return str(value)
