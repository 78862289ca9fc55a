"""Merge every run's JUnit files into one, each suite named `<package>[<db>]`.

Shards of one package on one back end become one suite again. A run that began but left
no JUnit file, or a file that is not JUnit XML, is reported as a problem and as an error
case in a `harness.report` suite, so that CI shows it; the other files still merge.
junitparser reads and writes the XML; each merged suite's package and back end come from
its run record and travel to the summary as data.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped, TestCase, TestSuite

from harness.infra import mask_secrets
from harness.reports._layout import ReportsLayout, RunRecord

REPORT_SUITE = "harness.report"
LIFECYCLE_SUFFIX = ".lifecycle"
OUTCOMES = (("failure", Failure), ("error", Error), ("skipped", Skipped))


@dataclass
class SuiteCounts:
    """One merged suite's figures, for the summary: `package` and `db` as its runs
    recorded them (`db` None for a suite of no back end), `lifecycle` for harness's own."""

    name: str
    package: str
    db: str | None = None
    lifecycle: bool = False
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    time: float = 0.0
    failed_cases: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


@dataclass
class JUnitMerge:
    xml: JUnitXml
    suites: list[SuiteCounts]
    problems: list[str]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        self.xml.write(buffer)
        path.write_text(mask_secrets(buffer.getvalue().decode("utf-8")), encoding="utf-8")


@dataclass
class _Merged:
    """A merged suite as it grows: the first input's attributes, every input's cases."""

    counts: SuiteCounts
    timestamp: str | None = None
    hostname: str | None = None
    properties: dict[str, set[str]] = field(default_factory=dict)
    cases: list[TestCase] = field(default_factory=list)


def merge_junit(layout: ReportsLayout, records: dict[str, RunRecord]) -> JUnitMerge:
    """Every `junit/*.xml` under `layout`, merged; missing and corrupt inputs as problems."""
    merged: dict[str, _Merged] = {}
    problems: list[str] = []
    reported = set()
    for path in sorted(layout.junit_dir.glob("*.xml")):
        run_id = path.stem.removesuffix(LIFECYCLE_SUFFIX)
        lifecycle = path.stem.endswith(LIFECYCLE_SUFFIX)
        if not lifecycle:
            reported.add(run_id)
        try:
            xml = JUnitXml.fromfile(str(path))
        except SyntaxError as exc:  # what the XML parser raises, lxml's or the standard one
            problems.append(f"{path}: not a JUnit XML file ({exc}); left out of the merge")
            continue
        except JUnitXmlError:
            problems.append(
                f"{path}: not a JUnit XML file (its root is neither <testsuites> nor "
                "<testsuite>); left out of the merge"
            )
            continue
        record = records.get(run_id)
        for suite in xml:
            _absorb(merged, suite, record, run_id, lifecycle)
    for run_id, record in sorted(records.items()):
        if run_id not in reported:
            problems.append(
                f"run {run_id!r} ({record.suite}) began but left no {layout.junit(run_id)}: "
                "its session ended before pytest wrote it"
            )
    if problems:
        merged[REPORT_SUITE] = _problem_suite(problems)
    xml, suites = _testsuites(merged.values())
    return JUnitMerge(xml, suites, problems)


def _absorb(
    merged: dict[str, _Merged],
    suite: TestSuite,
    record: RunRecord | None,
    run_id: str,
    lifecycle: bool,
) -> None:
    """Add `suite`'s cases, time and properties to the merged suite its run names."""
    package = record.package if record else suite.name or run_id
    name = (record.suite if record else package) + (" lifecycle" if lifecycle else "")
    target = merged.get(name)
    if target is None:
        counts = SuiteCounts(name, package, record.db if record else None, lifecycle)
        target = merged[name] = _Merged(counts, suite.timestamp, suite.hostname)
    target.counts.time += suite.time or 0.0
    found = [(p.name or "", p.value or "") for p in suite.properties()]
    for key, value in [*found, *(record.properties() if record else {}).items()]:
        target.properties.setdefault(key, set()).add(value)
    for case in suite:
        _count(target.counts, case)
        target.cases.append(case)


def _problem_suite(problems: list[str]) -> _Merged:
    problem_suite = _Merged(SuiteCounts(REPORT_SUITE, REPORT_SUITE))
    for number, problem in enumerate(problems, 1):
        case = TestCase(f"input {number}", REPORT_SUITE, 0.0)
        error = Error(message=problem)
        error.text = problem
        case.result = [error]
        _count(problem_suite.counts, case)
        problem_suite.cases.append(case)
    return problem_suite


def _testsuites(every: Iterable[_Merged]) -> tuple[JUnitXml, list[SuiteCounts]]:
    """<testsuites> of the merged suites, every count set from the cases; their counts."""
    root = JUnitXml("harness")
    suites = []
    for merged in every:
        suite = TestSuite(merged.counts.name)
        for attribute in ("timestamp", "hostname"):
            if getattr(merged, attribute) is not None:
                setattr(suite, attribute, getattr(merged, attribute))
        # a property once; values differing between shards joined: 'a, b'
        for key, values in merged.properties.items():
            suite.add_property(key, ", ".join(sorted(values)))
        suite.extend(merged.cases)
        _set_counts(suite, merged.counts)
        root.append(suite)
        suites.append(merged.counts)
    total = SuiteCounts("harness", "harness", time=sum(counts.time for counts in suites))
    for attribute in ("tests", "failures", "errors", "skipped"):
        setattr(total, attribute, sum(getattr(counts, attribute) for counts in suites))
    _set_counts(root, total)
    return root, suites


def _set_counts(element: TestSuite | JUnitXml, counts: SuiteCounts) -> None:
    element.tests = counts.tests
    element.failures = counts.failures
    element.errors = counts.errors
    element.skipped = counts.skipped
    element.time = round(counts.time, 3)


def outcome(case: TestCase) -> str:
    """'failure', 'error', 'skipped' or 'passed': what a <testcase> says happened."""
    results = case.result
    return next(
        (name for name, kind in OUTCOMES if any(isinstance(r, kind) for r in results)), "passed"
    )


def _count(counts: SuiteCounts, case: TestCase) -> None:
    """Count `case` in `counts`: the figures come from the cases, not from attributes."""
    happened = outcome(case)
    counts.tests += 1
    counts.skipped += happened == "skipped"
    counts.failures += happened == "failure"
    counts.errors += happened == "error"
    if happened in ("failure", "error"):
        counts.failed_cases.append(_describe(case, happened))


def _describe(case: TestCase, happened: str) -> str:
    kind = dict(OUTCOMES)[happened]
    detail = next(r for r in case.result if isinstance(r, kind))
    message = detail.message or detail.text or ""
    first_line = message.strip().splitlines()[0] if message.strip() else happened
    return f"{case.classname or ''}::{case.name or ''}: {first_line[:200]}"
