"""Combine every run's coverage data (test and service processes) and gate it.

Data files stay where they are (`keep`), so the merge can be run again; paths recorded on
other machines or in CI shards are remapped by `[tool.coverage.paths]`. Each directory in
`[tool.harness.reports] fail_under` is measured on its own.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import coverage
from coverage.exceptions import CoverageException, NoDataError

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
    measured = _reporting_coverage(layout.combined_coverage, config_file)
    # relative paths in the data (relative_files) are relative to the project's root
    with contextlib.chdir(root or config_file.parent):
        return _combine_and_gate(measured, runs, layout, result, fail_under)


def _reporting_coverage(data_file: Path, config_file: Path) -> coverage.Coverage:
    """A Coverage object to combine and report with.

    Making one tells the coverage that measures this process through the .pth hook (a
    merge run under test) not to save its data (coverage's
    `_prevent_sub_process_measurement`); that process keeps saving.
    """
    measuring = getattr(coverage.process_startup, "coverage", None)
    saving = measuring is not None and measuring._auto_save
    made = coverage.Coverage(data_file=str(data_file), config_file=str(config_file))
    if measuring is not None:
        measuring._auto_save = saving
    return made


def _combine_and_gate(
    measured: coverage.Coverage,
    runs: list[Path],
    layout: ReportsLayout,
    result: CoverageMerge,
    fail_under: dict[str, float],
) -> CoverageMerge:
    try:
        measured.combine([str(path) for path in runs], keep=True)
        measured.save()
        terminal = io.StringIO()
        result.total = measured.report(file=terminal)
        result.terminal = terminal.getvalue()
        measured.xml_report(outfile=str(layout.coverage_xml))
        measured.html_report(directory=str(layout.coverage_html))
    except CoverageException as exc:
        result.problems.append(f"coverage: {exc}")
        return result
    for directory, least in fail_under.items():
        try:
            percent = measured.report(include=[f"{directory}/*"], file=io.StringIO())
        except NoDataError:
            result.failures.append(f"coverage of {directory}/: nothing measured (gate {least:g}%)")
            continue
        result.directories[directory] = percent
        if percent < least:
            result.failures.append(
                f"coverage of {directory}/ is {percent:.1f}%, under the gate of {least:g}%"
            )
    return result
