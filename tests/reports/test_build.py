"""The merged reports: JUnit suites named `<package>[<db>]`, missing and corrupt inputs,
coverage combined across runs, machines and shards and gated per directory, the summary;
and that two pytest-split shards merge into exactly the unsharded run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import coverage
import pytest
from junitparser import JUnitXml, TestSuite

from harness.config._project import parse_config
from harness.exceptions import ConfigError
from harness.perf import PerfOutcome, outcome_path
from harness.reports import _build as report
from harness.reports._coverage_merge import merge_coverage
from harness.reports._junit_merge import merge_junit, outcome
from harness.reports._layout import ReportsLayout, RunRecord

CALC = """
def add(a, b):
    return a + b


def sign(a):
    if a < 0:
        return -1
    return 1


def never_called():
    return "not covered"
"""
TESTS = """
import pytest
from lib.calc import add, sign


@pytest.mark.parametrize("a", range(4))
def test_add(a):
    assert add(a, 1) == a + 1


def test_negative():
    assert sign(-3) == -1


def test_positive():
    assert sign(3) == 1


def test_fails():
    assert add(1, 1) == 3


@pytest.mark.skip(reason="shows as skipped")
def test_skipped():
    pass
"""
COVERAGE_CONFIG = """
[tool.coverage.run]
branch = true
parallel = true
relative_files = {relative}
source = ["lib"]

[tool.coverage.paths]
lib = ["lib/", "*/lib/"]
"""
APP_SERVICES = {"app": {"command": ["app", "{port}"]}}
NODE_IDS = [
    *(f"tests/test_calc.py::test_add[{a}]" for a in range(4)),
    "tests/test_calc.py::test_negative",
    "tests/test_calc.py::test_positive",
    "tests/test_calc.py::test_fails",
    "tests/test_calc.py::test_skipped",
]


def make_project(root: Path, relative: bool = True) -> Path:
    """A project with a library, its tests and a pytest-split durations file."""
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "__init__.py").write_text("")
    (root / "lib" / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TESTS)
    config = COVERAGE_CONFIG.format(relative=str(relative).lower())
    (root / "pyproject.toml").write_text(config)
    durations = {node: 0.1 * (n + 1) for n, node in enumerate(NODE_IDS)}
    (root / ".test_durations").write_text(json.dumps(durations))
    return root


def run_tests(project: Path, layout: ReportsLayout, record: RunRecord, *args: str) -> None:
    """pytest (under coverage, as the Nox sessions run it) writing the run's JUnit and data."""
    layout.begin(record)
    # the project is measured by its own config, not the one of a coverage run around us
    inherited = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
    env = {
        **inherited,
        "COVERAGE_PROCESS_START": str(project / "pyproject.toml"),
        "COVERAGE_FILE": str(layout.coverage_data(record.run_id)),
    }
    command = [sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", *args]
    command.append(f"--junitxml={layout.junit(record.run_id)}")
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: test_fails failed


def cases(merged: JUnitXml) -> dict[str, set[tuple[str, str]]]:
    """Suite name -> {(test id, outcome)}."""
    found: dict[str, set[tuple[str, str]]] = {}
    for suite in merged:
        for case in suite:
            test_id = f"{case.classname}::{case.name}"
            found.setdefault(suite.name or "", set()).add((test_id, outcome(case)))
    return found


def properties_of(suites: list[TestSuite]) -> dict[str, str | None]:
    return {p.name: p.value for suite in suites for p in suite.properties()}


def measured(layout: ReportsLayout) -> dict[str, tuple[list[int], list[tuple[int, int]]]]:
    data = coverage.CoverageData(basename=str(layout.combined_coverage))
    data.read()
    return {
        Path(name).as_posix(): (sorted(data.lines(name) or []), sorted(data.arcs(name) or []))
        for name in data.measured_files()
    }


def test_two_shards_run_exactly_the_unsharded_tests_and_merge_into_the_same_reports(tmp_path):
    project = make_project(tmp_path / "project")
    # the second shard runs in another checkout, recording absolute paths (another machine)
    elsewhere = make_project(tmp_path / "elsewhere" / "checkout", relative=False)
    whole = ReportsLayout(project / "reports-whole")
    sharded = ReportsLayout(project / "reports-sharded")
    config = project / "pyproject.toml"

    run_tests(project, whole, RunRecord("unit-sqlite", "unit", "sqlite"))
    run_tests(
        project,
        sharded,
        RunRecord("unit-sqlite-1of2", "unit", "sqlite", "1/2"),
        "--splits=2",
        "--group=1",
    )
    run_tests(
        elsewhere,
        sharded,
        RunRecord("unit-sqlite-2of2", "unit", "sqlite", "2/2"),
        "--splits=2",
        "--group=2",
    )

    shard_ids = [
        {case.get("name") for case in ET.parse(sharded.junit(run)).getroot().iter("testcase")}
        for run in ("unit-sqlite-1of2", "unit-sqlite-2of2")
    ]
    assert all(shard_ids) and not shard_ids[0] & shard_ids[1]
    whole_junit = merge_junit(whole, whole.records()[0])
    sharded_junit = merge_junit(sharded, sharded.records()[0])
    assert whole_junit.problems == sharded_junit.problems == []
    assert cases(sharded_junit.xml) == cases(whole_junit.xml)
    assert len(cases(whole_junit.xml)["unit[sqlite]"]) == len(NODE_IDS)
    [counts] = sharded_junit.suites
    assert (counts.tests, counts.failures, counts.skipped) == (len(NODE_IDS), 1, 1)
    properties = properties_of(list(sharded_junit.xml))
    assert properties["harness.shard"] == "1/2, 2/2"
    assert properties["harness.backend"] == "sqlite"

    whole_coverage = merge_coverage(whole, config, {"lib": 50})
    sharded_coverage = merge_coverage(sharded, config, {"lib": 50})
    assert measured(sharded) == measured(whole)
    assert set(measured(whole)) == {"lib/__init__.py", "lib/calc.py"}  # elsewhere remapped
    assert sharded_coverage.directories == whole_coverage.directories
    assert 50 < whole_coverage.directories["lib"] < 100
    assert whole_coverage.failures == [] and whole_coverage.problems == []
    # the data files are kept: the merge can run again
    assert list(sharded.coverage_data("unit-sqlite-2of2").parent.glob(".coverage.*"))


def test_a_directory_under_its_coverage_gate_fails_the_merge_with_both_figures(tmp_path):
    project = make_project(tmp_path / "project")
    layout = ReportsLayout(project / "reports")
    run_tests(project, layout, RunRecord("unit", "unit"))

    result = merge_coverage(layout, project / "pyproject.toml", {"lib": 95})

    percent = result.directories["lib"]
    assert result.failures == [f"coverage of lib/ is {percent:.1f}%, under the gate of 95%"]
    assert (layout.coverage_html / "index.html").exists()
    assert ET.parse(layout.coverage_xml).getroot().tag == "coverage"
    assert "lib/calc.py" in result.terminal


def test_the_projects_own_fail_under_is_not_a_second_gate(tmp_path):
    project = make_project(tmp_path / "project")
    with (project / "pyproject.toml").open("a") as config:
        config.write("\n[tool.coverage.report]\nfail_under = 100\n")
    layout = ReportsLayout(project / "reports")
    run_tests(project, layout, RunRecord("unit", "unit"))

    result = merge_coverage(layout, project / "pyproject.toml", {"lib": 50})

    assert (result.failures, result.problems) == ([], [])
    assert 50 < result.directories["lib"] < 100 and result.total is not None
    assert (layout.coverage_html / "index.html").exists() and layout.coverage_xml.exists()


def test_no_coverage_data_is_a_problem_not_a_pass(tmp_path):
    layout = ReportsLayout(tmp_path / "reports")

    result = merge_coverage(layout, tmp_path / "pyproject.toml", {"lib": 80})

    assert result.problems == [f"no coverage data under {layout.coverage_dir}/<run>/"]


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="{run}" tests="2" failures="1" time="1.5">
<properties><property name="harness.conformance.records" value="12"/></properties>
<testcase classname="contracts.test_a" name="test_ok" time="0.5"/>
<testcase classname="contracts.test_a" name="test_bad" time="1.0">
<failure message="assert 500 == 200">details</failure></testcase>
</testsuite></testsuites>
"""


def write_run(layout: ReportsLayout, record: RunRecord, text: str | None = None) -> None:
    layout.begin(record)
    if text is not None:
        layout.junit(record.run_id).write_text(text)


def test_suites_are_named_package_and_back_end_and_keep_their_properties(tmp_path):
    layout = ReportsLayout(tmp_path / "reports")
    for db in ("sqlite", "postgres"):
        record = RunRecord(f"contracts-{db}", "contracts", db, revision="abc123")
        write_run(layout, record, JUNIT.format(run=f"contracts-{db}"))
    layout.lifecycle_junit("contracts-sqlite").write_text(JUNIT.format(run="lifecycle[x]"))

    merged = merge_junit(layout, layout.records()[0])

    suites = {suite.name: suite for suite in merged.xml}
    assert set(suites) == {
        "contracts[sqlite]",
        "contracts[sqlite] lifecycle",
        "contracts[postgres]",
    }
    properties = properties_of([suites["contracts[postgres]"]])
    assert properties["harness.backend"] == "postgres"
    assert properties["harness.revision"] == "abc123"
    assert properties["harness.run_id"] == "contracts-postgres"
    assert properties["harness.conformance.records"] == "12"
    assert properties["harness.python"].count(".") == 2
    assert merged.xml.tests == 6 and merged.xml.failures == 3
    assert merged.problems == []


def test_a_corrupt_or_missing_junit_file_is_reported_and_the_others_still_merge(tmp_path):
    layout = ReportsLayout(tmp_path / "reports")
    write_run(layout, RunRecord("contracts-sqlite", "contracts", "sqlite"), JUNIT.format(run="x"))
    write_run(layout, RunRecord("workflows-sqlite", "workflows", "sqlite"), "<testsuites><oops")
    write_run(layout, RunRecord("perf-sqlite", "perf", "sqlite"))  # began, wrote nothing

    merged = merge_junit(layout, layout.records()[0])

    assert len(merged.problems) == 2
    corrupt, missing = merged.problems
    assert corrupt.startswith(f"{layout.junit('workflows-sqlite')}: not a JUnit XML file")
    assert missing.startswith("run 'perf-sqlite' (perf[sqlite]) began but left no ")
    names = [suite.name for suite in merged.xml]
    assert names == ["contracts[sqlite]", "harness.report"]
    problem_cases = cases(merged.xml)["harness.report"]
    assert {outcome for _, outcome in problem_cases} == {"error"} and len(problem_cases) == 2


def test_the_summary_lists_tests_per_package_and_back_end_failures_coverage_and_budgets(
    tmp_path, monkeypatch
):
    project = make_project(tmp_path / "project")
    config = parse_config(
        {
            "services": APP_SERVICES,
            "reports": {"dir": "reports", "fail_under": {"lib": 99}},
        },
        root=project,
    )
    layout = ReportsLayout(config.reports.dir)
    run_tests(project, layout, RunRecord("unit-sqlite", "unit", "sqlite"))
    write_run(
        layout, RunRecord("contracts-postgres", "contracts", "postgres"), JUNIT.format(run="c")
    )
    write_run(layout, RunRecord("perf-sqlite", "perf", "sqlite"), JUNIT.format(run="p"))
    layout.perf_dir.mkdir()
    for db in ("sqlite", "postgres"):  # postgres's is from an older run: not shown
        PerfOutcome(db, ["drafting/export: p95 = 3 s"]).save(outcome_path(layout.perf_dir, db))
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))

    built = report.build(config)

    text = layout.summary.read_text()
    assert step_summary.read_text() == "earlier step\n" + text
    assert "**3 of 12 tests failed.**" in text
    assert "| package | postgres | sqlite |" in text
    assert "| contracts | ❌ 1 passed, 1 failed |  |" in text
    assert "| unit |  | ❌ 6 passed, 1 failed, 1 skipped |" in text
    assert "- `contracts[postgres]` contracts.test_a::test_bad: assert 500 == 200" in text
    assert "- ❌ `lib/`: " in text and "(gate 99%)" in text
    assert "## Performance budgets (sqlite)" in text and "drafting/export: p95 = 3 s" in text
    assert "**1 failure(s)**" in text and "(postgres)" not in text
    assert built.failures == built.coverage.failures and len(built.failures) == 1
    assert ET.parse(layout.merged_junit).getroot().get("tests") == "12"


@pytest.mark.parametrize(
    ("reports", "message"),
    [
        ({"fail_under": {"lib": 120}}, "fail_under.lib: must be a percentage from 0 to 100"),
        ({"fail_under": {"nowhere": 80}}, "fail_under.nowhere: no such directory"),
        ({"fail_under": 80}, "tool.harness.reports.fail_under: must be a table"),
        ({"directory": "x"}, "reports.directory: unknown key"),
    ],
)
def test_bad_reports_config_is_one_clear_line(tmp_path, reports, message):
    (tmp_path / "lib").mkdir()
    with pytest.raises(ConfigError, match=message):
        parse_config(
            {"services": {"app": {"command": ["app", "{port}"]}}, "reports": reports}, tmp_path
        )


def test_a_run_begun_again_forgets_what_the_earlier_one_left(tmp_path):
    layout = ReportsLayout(tmp_path / "reports")
    record = RunRecord("unit", "unit")
    write_run(layout, record, JUNIT.format(run="unit"))
    layout.coverage_data("unit").with_suffix(".x1").write_text("old data")
    shutil.copy(layout.junit("unit"), layout.lifecycle_junit("unit"))

    layout.begin(record)

    assert not layout.junit("unit").exists() and not layout.lifecycle_junit("unit").exists()
    assert list(layout.coverage_data("unit").parent.iterdir()) == []
    assert layout.records() == ({"unit": record}, [])


def test_a_password_in_a_junit_file_is_masked_in_the_merged_junit_and_the_summary(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    config = parse_config({"services": APP_SERVICES, "reports": {"dir": "reports"}}, root=tmp_path)
    layout = ReportsLayout(config.reports.dir)
    leaky = JUNIT.format(run="c").replace(
        "assert 500 == 200", "cannot reach postgresql://app:hunter2@db:5432/x"
    )
    write_run(layout, RunRecord("contracts-postgres", "contracts", "postgres"), leaky)

    built = report.build(config)

    for text in (built.summary, layout.summary.read_text(), layout.merged_junit.read_text()):
        assert "hunter2" not in text
        assert "cannot reach postgresql://app:***@db:5432/x" in text


def test_an_unreadable_perf_outcome_is_a_problem_of_the_report(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    config = parse_config({"services": APP_SERVICES, "reports": {"dir": "reports"}}, root=tmp_path)
    layout = ReportsLayout(config.reports.dir)
    write_run(layout, RunRecord("perf-sqlite", "perf", "sqlite"), JUNIT.format(run="p"))
    layout.perf_dir.mkdir()
    outcome_path(layout.perf_dir, "sqlite").write_text('{"backend": "sqlite"}')

    built = report.build(config)

    path = outcome_path(layout.perf_dir, "sqlite")
    assert built.problems == [
        f"{path}: not a perf outcome ('failures'); its budgets are left out of the summary"
    ]
    assert built.failures[0] == built.problems[0]
    assert "Performance budgets" not in built.summary
