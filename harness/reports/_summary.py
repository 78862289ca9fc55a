"""The Markdown summary of a whole run: tests per package and back end, failures,
coverage and performance budgets; for reports/summary.md and $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from harness.perf import PerfOutcome
from harness.reports._coverage_merge import CoverageMerge
from harness.reports._junit_merge import SuiteCounts

MAX_FAILURES = 30


def render(
    suites: list[SuiteCounts],
    coverage: CoverageMerge,
    perf: list[PerfOutcome],
    problems: list[str],
) -> str:
    """`perf`: the perf outcomes of this run's back ends; `problems`: inputs the merge
    could not use (missing or corrupt files)."""
    lines = ["# Test report", ""]
    lines += [f"- ❌ {problem}" for problem in problems] + ([""] if problems else [])
    lines += _tests_table(suites)
    lines += _failures(suites)
    lines += _coverage(coverage)
    lines += _perf(perf)
    return "\n".join(lines) + "\n"


def _tests_table(suites: list[SuiteCounts]) -> list[str]:
    """Packages down, back ends across; a suite without a back end goes under '-'."""
    cells: dict[str, dict[str, SuiteCounts]] = {}
    backends: list[str] = []
    for suite in suites:
        package = suite.package + (" lifecycle" if suite.lifecycle else "")
        backend = suite.db or "-"
        if backend not in backends:
            backends.append(backend)
        cells.setdefault(package, {})[backend] = suite
    lines = ["| package | " + " | ".join(backends) + " |", "|---" * (len(backends) + 1) + "|"]
    for package, row in cells.items():
        lines.append(
            f"| {package} | " + " | ".join(_cell(row.get(backend)) for backend in backends) + " |"
        )
    total = sum(suite.tests for suite in suites)
    failed = sum(suite.failures + suite.errors for suite in suites)
    skipped = sum(suite.skipped for suite in suites)
    verdict = (
        f"**{failed} of {total} tests failed.**"
        if failed
        else f"**No failures: {total - skipped} passed, {skipped} skipped.**"
    )
    return [verdict, "", *lines, ""]


def _cell(suite: SuiteCounts | None) -> str:
    if suite is None:
        return ""
    parts = [f"{suite.passed} passed"]
    parts += [f"{suite.failures} failed"] if suite.failures else []
    parts += [f"{suite.errors} errors"] if suite.errors else []
    parts += [f"{suite.skipped} skipped"] if suite.skipped else []
    mark = "❌ " if suite.failures or suite.errors else ""
    return mark + ", ".join(parts)


def _failures(suites: list[SuiteCounts]) -> list[str]:
    failed = [f"- `{suite.name}` {case}" for suite in suites for case in suite.failed_cases]
    if not failed:
        return []
    shown = failed[:MAX_FAILURES]
    more = [f"- … and {len(failed) - MAX_FAILURES} more"] if len(failed) > MAX_FAILURES else []
    return ["## Failures", "", *shown, *more, ""]


def _coverage(merge: CoverageMerge) -> list[str]:
    lines = ["## Coverage", ""]
    if merge.total is not None:
        lines.append(f"- total: {merge.total:.1f}%")
    for directory, least in merge.gates.items():
        percent = merge.directories.get(directory)
        figure = f"{percent:.1f}%" if percent is not None else "not measured"
        mark = "✅" if percent is not None and percent >= least else "❌"
        lines.append(f"- {mark} `{directory}/`: {figure} (gate {least:g}%)")
    lines += [f"- ❌ {problem}" for problem in merge.problems]
    return [*lines, ""]


def _perf(outcomes: list[PerfOutcome]) -> list[str]:
    """Each back end's budget verdict, as its perf report begins."""
    lines = []
    for outcome in outcomes:
        lines += [f"## Performance budgets ({outcome.backend})", "", *outcome.lines(), ""]
    return lines
