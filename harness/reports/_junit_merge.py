"""Merge every run's JUnit files into one, each suite named `<package>[<db>]`.

Shards of one package on one back end become one suite again. A run that began but left
no JUnit file, or a file that is not JUnit XML, is reported as a problem and as an error
case in a `harness.reports._build` suite, so that CI shows it; the other files still merge.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.infra import mask_secrets
from harness.reports._layout import ReportsLayout, RunRecord

REPORT_SUITE = "harness.report"
LIFECYCLE_SUFFIX = ".lifecycle"
OUTCOMES = ("failure", "error", "skipped")


@dataclass
class SuiteCounts:
    """One merged suite's figures, for the summary."""

    name: str
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
    root: ET.Element
    problems: list[str]

    def counts(self) -> list[SuiteCounts]:
        return [_counts(suite) for suite in self.root.iter("testsuite")]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.indent(self.root)
        text = ET.tostring(self.root, encoding="unicode", xml_declaration=True)
        path.write_text(mask_secrets(text), encoding="utf-8")


def merge_junit(layout: ReportsLayout, records: dict[str, RunRecord]) -> JUnitMerge:
    """Every `junit/*.xml` under `layout`, merged; missing and corrupt inputs as problems."""
    merged: dict[str, ET.Element] = {}
    problems: list[str] = []
    reported = set()
    for path in sorted(layout.junit_dir.glob("*.xml")):
        run_id = path.stem.removesuffix(LIFECYCLE_SUFFIX)
        lifecycle = path.stem.endswith(LIFECYCLE_SUFFIX)
        if not lifecycle:
            reported.add(run_id)
        try:
            suites = _suites_in(path)
        except (ET.ParseError, ValueError) as exc:
            problems.append(f"{path}: not a JUnit XML file ({exc}); left out of the merge")
            continue
        record = records.get(run_id)
        for suite in suites:
            name = record.suite if record else suite.get("name", run_id)
            if lifecycle:
                name += " lifecycle"
            _absorb(merged, name, suite, record)
    for run_id, record in sorted(records.items()):
        if run_id not in reported:
            problems.append(
                f"run {run_id!r} ({record.suite}) began but left no {layout.junit(run_id)}: "
                "its session ended before pytest wrote it"
            )
    if problems:
        merged[REPORT_SUITE] = _problem_suite(problems)
    return JUnitMerge(_testsuites(merged.values()), problems)


def _suites_in(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    if root.tag == "testsuite":
        return [root]
    if root.tag == "testsuites":
        return root.findall("testsuite")
    raise ValueError(f"root element <{root.tag}>, expected <testsuites> or <testsuite>")


def _absorb(
    merged: dict[str, ET.Element], name: str, suite: ET.Element, record: RunRecord | None
) -> None:
    """Add `suite`'s cases and properties to the merged suite `name`."""
    target = merged.get(name)
    if target is None:
        target = merged[name] = ET.Element("testsuite", {"name": name, "time": "0"})
        for attribute in ("timestamp", "hostname"):
            if attribute in suite.attrib:
                target.set(attribute, suite.attrib[attribute])
        ET.SubElement(target, "properties")
    target.set("time", f"{float(target.get('time', 0)) + float(suite.get('time', 0)):.3f}")
    properties = {p.get("name", ""): p.get("value", "") for p in suite.iter("property")}
    properties.update(record.properties() if record else {})
    _add_properties(target.find("properties"), properties)
    target.extend(suite.findall("testcase"))


def _add_properties(element: ET.Element | None, properties: dict[str, str]) -> None:
    """Set each property once; a shard's differing value joins the others ('a, b')."""
    assert element is not None
    existing = {p.get("name"): p for p in element.findall("property")}
    for name, value in properties.items():
        if name not in existing:
            existing[name] = ET.SubElement(element, "property", {"name": name, "value": value})
            continue
        values = existing[name].get("value", "").split(", ")
        if value not in values:
            existing[name].set("value", ", ".join(sorted([*values, value])))


def _problem_suite(problems: list[str]) -> ET.Element:
    suite = ET.Element("testsuite", {"name": REPORT_SUITE, "time": "0"})
    for number, problem in enumerate(problems, 1):
        case = ET.SubElement(
            suite, "testcase", {"classname": REPORT_SUITE, "name": f"input {number}", "time": "0"}
        )
        ET.SubElement(case, "error", {"message": problem}).text = problem
    return suite


def _testsuites(suites: Iterable[ET.Element]) -> ET.Element:
    """<testsuites> holding `suites`, each element's and the total's counts set from cases."""
    root = ET.Element("testsuites", {"name": "harness"})
    root.extend(suites)
    every = [_counts(suite) for suite in root]
    for element, counts in [*zip(root, every, strict=True), (root, _total(every))]:
        for attribute in ("tests", "failures", "errors", "skipped"):
            element.set(attribute, str(getattr(counts, attribute)))
    root.set("time", f"{sum(counts.time for counts in every):.3f}")
    return root


def _total(every: list[SuiteCounts]) -> SuiteCounts:
    return SuiteCounts(
        "harness",
        tests=sum(c.tests for c in every),
        failures=sum(c.failures for c in every),
        errors=sum(c.errors for c in every),
        skipped=sum(c.skipped for c in every),
    )


def outcome(case: ET.Element) -> str:
    """'failure', 'error', 'skipped' or 'passed': what a <testcase> says happened."""
    return next((tag for tag in OUTCOMES if case.find(tag) is not None), "passed")


def _counts(suite: ET.Element) -> SuiteCounts:
    """The suite's figures counted from its cases, not taken from its attributes."""
    counts = SuiteCounts(suite.get("name", ""), time=float(suite.get("time", 0)))
    for case in suite.findall("testcase"):
        counts.tests += 1
        happened = outcome(case)
        counts.skipped += happened == "skipped"
        counts.failures += happened == "failure"
        counts.errors += happened == "error"
        if happened in ("failure", "error"):
            counts.failed_cases.append(_describe(case, happened))
    return counts


def _describe(case: ET.Element, outcome: str) -> str:
    detail = case.find(outcome)
    message = (detail.get("message") or detail.text or "") if detail is not None else ""
    first_line = message.strip().splitlines()[0] if message.strip() else outcome
    return f"{case.get('classname', '')}::{case.get('name', '')}: {first_line[:200]}"
