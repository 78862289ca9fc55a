"""pytest plugin part: the perf scenarios of `<perf dir>/scenarios.toml` as tests.

The scenarios run once, on the running stack (`harness_stack`), when the first test that
needs them runs. Then:

- a test asking for `perf_verdict` runs once per budget (`drafting/case creation: p95`);
- a test asking for `perf_comparison` once per figure (a request's, a stream's, a lag's)
  also in the stored baseline (or once, skipped with the reason, when there is nothing to
  compare with);
- a test asking for `perf_scenario_result` once per scenario (was the generator the limit?);
- a test asking for `perf_ramp_result` once per stress ramp of a selected scenario.

Each records its figures as JUnit properties. The results (JSON), a Markdown summary and
an HTML report are written to `--perf-reports` (default `reports/perf`), named by the
back end; `--perf-baseline` names the results to compare with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.exceptions import ConfigError
from harness.perf import (
    Budget,
    BudgetVerdict,
    Comparison,
    PerfPlan,
    PerfResults,
    ScenarioResult,
    load_budgets,
    load_plan,
)
from harness.perf import _assessment as perf
from harness.perf import _report as perf_report
from harness.perf._stress import RampResult
from harness.pytest.plugin import RunningStack, attached_run, chosen_backend, harness_config_of
from harness.stack import Stack


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness")
    group.addoption(
        "--perf-scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this perf scenario (repeatable; default: every one)",
    )
    group.addoption(
        "--perf-baseline",
        default=None,
        metavar="PATH",
        help="perf results to compare with (default: <perf dir>/baselines/<db>.json)",
    )
    group.addoption(
        "--perf-reports",
        default="reports/perf",
        metavar="DIR",
        help="where the results, summary and HTML report go (default: reports/perf)",
    )


@dataclass(frozen=True)
class PerfSetup:
    """What the session measures, known before anything runs (so tests can be listed)."""

    plan: PerfPlan
    scenarios: list[str]
    budgets: list[Budget]
    baseline_path: Path
    baseline: PerfResults | None
    backend: str


_SETUP_KEY = pytest.StashKey[PerfSetup]()


def perf_setup_of(pytest_config: pytest.Config) -> PerfSetup:
    """The plan, selection, budgets and baseline, read once per session."""
    if _SETUP_KEY in pytest_config.stash:
        return pytest_config.stash[_SETUP_KEY]
    config = harness_config_of(pytest_config)
    options = pytest_config.option
    attached = attached_run(config, options.harness_run)
    backend = attached.backend if attached else chosen_backend(pytest_config, config)
    try:
        plan = load_plan(config)
        scenarios = plan.select(options.perf_scenario)
        budgets = [
            budget
            for budget in load_budgets(config.perf.budgets, plan, config.members, backend)
            if budget.scenario in scenarios
        ]
        path = Path(options.perf_baseline or config.perf.baseline(backend))
        baseline = PerfResults.load(path) if path.exists() else None
    except ConfigError as exc:
        raise pytest.UsageError(f"harness perf: {exc}") from None
    setup = PerfSetup(plan, scenarios, budgets, path, baseline, backend)
    pytest_config.stash[_SETUP_KEY] = setup
    return setup


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if not {"perf_budget", "perf_compared", "perf_scenario", "perf_ramp"} & set(names):
        return
    setup = perf_setup_of(metafunc.config)
    if "perf_budget" in names:
        ids = [budget.id for budget in setup.budgets]
        metafunc.parametrize("perf_budget", setup.budgets, ids=ids)
    if "perf_compared" in names:
        stored = setup.baseline.scenarios if setup.baseline else {}
        keys = [
            f"{name}/{figure}"
            for name in setup.scenarios
            for figure in setup.plan.scenarios[name].compared_names
            if name in stored and figure in stored[name].requests
        ]
        if keys:
            metafunc.parametrize("perf_compared", keys, ids=keys)
        else:
            skip = pytest.mark.skip(reason=_nothing_to_compare(setup))
            metafunc.parametrize("perf_compared", [pytest.param(None, marks=skip)], ids=["none"])
    if "perf_scenario" in names:
        metafunc.parametrize("perf_scenario", setup.scenarios, ids=setup.scenarios)
    if "perf_ramp" in names:
        ramps = [n for n, r in setup.plan.ramps.items() if r.scenario in setup.scenarios]
        if ramps:
            metafunc.parametrize("perf_ramp", ramps, ids=ramps)
        else:
            skip = pytest.mark.skip(reason="no [stress.<name>] ramp of a selected scenario")
            metafunc.parametrize("perf_ramp", [pytest.param(None, marks=skip)], ids=["none"])


def _nothing_to_compare(setup: PerfSetup) -> str:
    """Why no request is compared with a baseline, and what to do about it."""
    if setup.baseline is None:
        return (
            f"no baseline at {setup.baseline_path}: "
            f"record one with `invoke perf.baseline --db {setup.backend}`"
        )
    return f"the baseline at {setup.baseline_path} holds none of the selected scenarios' requests"


@dataclass(frozen=True)
class PerfRun:
    results: PerfResults
    assessment: perf.Assessment
    reports: list[Path]


@pytest.fixture(scope="session")
def perf_run(
    request: pytest.FixtureRequest, harness_config: HarnessConfig, harness_stack: RunningStack
) -> PerfRun:
    """Every selected scenario measured once, judged, and written to the reports."""
    setup = perf_setup_of(request.config)
    state = Stack(harness_config, harness_stack.run_id).run.load()
    results, assessment = perf.measure_and_assess(
        setup.plan, state, setup.scenarios, setup.budgets, setup.baseline
    )
    directory = Path(request.config.option.perf_reports)
    if not directory.is_absolute():
        directory = request.config.rootpath / directory
    return PerfRun(results, assessment, perf_report.write(results, assessment, directory))


@pytest.fixture
def perf_verdict(perf_budget: Budget, perf_run: PerfRun) -> BudgetVerdict:
    """This test's budget beside the figure the run measured."""
    return next(v for v in perf_run.assessment.verdicts if v.budget == perf_budget)


@pytest.fixture
def perf_comparison(perf_compared: str, perf_run: PerfRun) -> Comparison:
    """This test's request against the baseline (noise-aware)."""
    return perf_run.assessment.comparisons[perf_compared]


@pytest.fixture
def perf_ramp_result(perf_ramp: str, perf_run: PerfRun) -> RampResult:
    """This test's stress ramp: its levels, knee and recovery."""
    return perf_run.results.stress[perf_ramp]


@pytest.fixture
def perf_scenario_result(perf_scenario: str, perf_run: PerfRun) -> ScenarioResult:
    return perf_run.results.scenarios[perf_scenario]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the reports went."""
    config = terminalreporter.config
    if _SETUP_KEY not in config.stash or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    setup = config.stash[_SETUP_KEY]
    directory = config.option.perf_reports
    terminalreporter.write_sep("-", "harness perf")
    terminalreporter.write_line(f"results, summary and report: {directory}/{setup.backend}.*")
