"""Combine every run's coverage data (test and service processes) and gate it.

Data files stay where they are (`keep`), so the merge can be run again; paths recorded on
other machines or in CI shards are remapped by `[tool.coverage.paths]`. Each directory in
`[tool.harness.reports] fail_under` gets its own figure, summed from its files' summaries
in the one `coverage json` report. coverage.py's public command line does the work, in a
process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.exceptions import HarnessError
from harness.reports._layout import ReportsLayout


@dataclass
class CoverageMerge:
    """The combined figures: total, each gated directory, and what went wrong."""

    total: float | None = None
    directories: dict[str, float] = field(default_factory=dict)
    gates: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    terminal: str = ""


def merge_coverage(
    layout: ReportsLayout,
    config_file: Path,
    fail_under: dict[str, float],
    root: Path | None = None,
) -> CoverageMerge:
    """Combine `coverage/<run>/` data; write HTML, Cobertura XML and a terminal table.

    `root` is the project's root, where the data's relative paths start (default: the
    config file's directory).
    """
    result = CoverageMerge(gates=dict(fail_under))
    runs = sorted(path for path in layout.coverage_dir.glob("*") if path.is_dir())
    if not any(path.glob(".coverage*") for path in runs):
        result.problems.append(f"no coverage data under {layout.coverage_dir}/<run>/")
        return result
    layout.combined_coverage.unlink(missing_ok=True)
    # relative paths in the data (relative_files) are relative to the project's root
    where = root or config_file.parent
    tool = _CoverageTool(config_file, layout.combined_coverage, where)
    try:
        tool.run("combine", "--keep", *map(str, runs))
        result.terminal = tool.report("report")
        figures = json.loads(tool.report("json", "-q", "-o", "-"))
        tool.report("xml", "-o", str(layout.coverage_xml))
        tool.report("html", "-d", str(layout.coverage_html))
    except CoverageCommandError as exc:
        result.problems.append(f"coverage: {exc}")
        return result
    result.total = float(figures["totals"]["percent_covered"])
    for directory, least in fail_under.items():
        percent = _percent_under(figures["files"], where / directory, where)
        if percent is None:
            result.failures.append(f"coverage of {directory}/: nothing measured (gate {least:g}%)")
            continue
        result.directories[directory] = percent
        if percent < least:
            result.failures.append(
                f"coverage of {directory}/ is {percent:.1f}%, under the gate of {least:g}%"
            )
    return result


# what makes coverage.py measure a new Python process (its .pth hook, its subprocess patch)
_MEASURING = {"COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG"}


def _percent_under(files: dict[str, Any], directory: Path, root: Path) -> float | None:
    """Line-and-branch coverage of the files under `directory`, as coverage.py counts it
    (from `coverage json`'s per-file summaries); None when none of them was measured."""
    summaries = [
        figures["summary"]
        for name, figures in files.items()
        if (root / name).resolve().is_relative_to(directory.resolve())
    ]
    if not summaries:
        return None
    covered = sum(s["covered_lines"] + s.get("covered_branches", 0) for s in summaries)
    total = sum(s["num_statements"] + s.get("num_branches", 0) for s in summaries)
    return 100.0 * covered / total if total else 100.0


class CoverageCommandError(HarnessError):
    """A `coverage` command failed; the message is its own."""


@dataclass(frozen=True)
class _CoverageTool:
    """coverage.py's command line on one data file, run where the project's paths start.

    Its own process is never measured (`_MEASURING` is not passed on): a Coverage object
    made in a measured process would stop that process's own measurement from saving.
    """

    config_file: Path
    data_file: Path
    cwd: Path

    def run(self, command: str, *args: str) -> str:
        """The command's output; CoverageCommandError with its message when it fails."""
        env = {k: v for k, v in os.environ.items() if k not in _MEASURING}
        completed = subprocess.run(
            [
                sys.executable, "-m", "coverage", command,
                f"--rcfile={self.config_file}", f"--data-file={self.data_file}", *args,
            ],
            cwd=self.cwd, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if completed.returncode == 0:
            return completed.stdout
        message = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["failed"]
        raise CoverageCommandError(f"coverage {command}: {message[0]}")

    def report(self, command: str, *args: str) -> str:
        """A report: the project's own `fail_under` is not coverage's to apply here (the
        gates are harness's, per directory), so it never turns the command into a failure."""
        return self.run(command, "--fail-under=0", *args)
