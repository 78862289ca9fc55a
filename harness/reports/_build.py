"""The last step of a run: merge every session's JUnit and coverage, write the summary.

`invoke reports.merge` (the `report` Nox session) calls `build`. It writes, under the
reports directory: `junit.xml`, `coverage.xml`, `coverage-html/`, `summary.md` (also
appended to $GITHUB_STEP_SUMMARY when set). The report fails on a coverage gate and on a
missing or corrupt input; failed tests already failed their own sessions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.config import HarnessConfig
from harness.infra import mask_secrets
from harness.perf import PerfOutcome, outcome_path
from harness.reports import _summary as summary
from harness.reports._coverage_merge import CoverageMerge, merge_coverage
from harness.reports._coverage_settings import write_coverage_settings
from harness.reports._junit_merge import JUnitMerge, merge_junit
from harness.reports._layout import ReportsLayout

STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


@dataclass
class Report:
    junit: JUnitMerge
    coverage: CoverageMerge
    problems: list[str]
    summary: str

    @property
    def failures(self) -> list[str]:
        """Why the report fails: coverage gates and inputs it could not use."""
        return [*self.problems, *self.coverage.failures, *self.coverage.problems]


def build(config: HarnessConfig) -> Report:
    layout = ReportsLayout(config.reports.dir)
    records, problems = layout.records()
    junit = merge_junit(layout, records)
    junit.write(layout.merged_junit)
    problems += junit.problems
    settings = write_coverage_settings(config, layout.coverage_settings)
    coverage = merge_coverage(layout, settings, config.reports.fail_under, config.root)
    # only back ends whose perf package ran this time: an older report would tell of old code
    perf_runs = {r.db for r in records.values() if r.package == config.perf.dir.name and r.db}
    perf = _perf_outcomes(layout, sorted(perf_runs), problems)
    text = mask_secrets(summary.render(junit.suites, coverage, perf, problems))
    layout.summary.write_text(text)
    step_summary = os.environ.get(STEP_SUMMARY_VARIABLE)
    if step_summary:
        with Path(step_summary).open("a") as stream:
            stream.write(text)
    return Report(junit, coverage, problems, text)


def _perf_outcomes(
    layout: ReportsLayout, backends: list[str], problems: list[str]
) -> list[PerfOutcome]:
    """The outcome each back end's perf run saved; one it left unreadable is a problem."""
    outcomes = []
    for backend in backends:
        path = outcome_path(layout.perf_dir, backend)
        if not path.exists():
            continue  # its session ended before the perf run wrote its reports
        try:
            outcomes.append(PerfOutcome.load(path))
        except ValueError as exc:
            problems.append(f"{exc}; its budgets are left out of the summary")
    return outcomes
