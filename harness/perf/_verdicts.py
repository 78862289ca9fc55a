"""Budget verdicts that hold on a busy machine: a slow service fails, a slow machine doesn't.

A breach measured while the machine was busy (`harness.perf._machine`: a neighbour's load, or
the run's processes waiting for a CPU) is first measured again, up to `ATTEMPTS` times.
A breach on a quiet attempt fails. A breach on a busy one fails only if it outlasts the
time the machine took: latency figures are judged after taking off, per request, the
calibration's own excess over a quiet calibration (the same trivial request, measured
right before and after) times the wait ratio's stretch; what the busy machine could have
caused is "inconclusive", a notice naming the figures, never a failure. Memory kept per
request is judged on any machine: a busy one serves fewer requests, not heavier ones.

A regression against the baseline measured on a busy machine stands only if the run is
still over the threshold slower than the baseline's slowest run after dividing its p50
by the stretch its wait ratio allows beyond the baseline's (1 + wait over 1 + the
baseline's: all of its time a CPU's work, waited for); a 150 ms sleep stays a regression,
a machine three times as busy does not, and a scenario whose own processes keep the CPUs
busy (the baseline waited as long) is judged in full. One against a baseline of another
setup (`harness.perf._environment`) is a notice. A regression stands only if a second
measurement of the scenario regresses too (`confirm`): these machines drift between runs
by more than any margin a single run can be held to, and a run just over the threshold
once (seen: +23% against a 20% threshold, then within it) is not a slower service.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

from harness.perf._budgets import Budget, BudgetVerdict
from harness.perf._latency import PERCENTILES
from harness.perf._machine import MachineUse
from harness.perf._regression import THRESHOLD, Comparison, Runs
from harness.perf._results import PerfResults, ScenarioResult

ATTEMPTS = 3
# Figures a busy machine cannot move: memory kept per request is a slope per request
# served, so a machine that serves fewer requests per second gives the same figure.
UNMOVED_BY_LOAD = frozenset({"max_memory_per_request_kb"})


@dataclass(frozen=True)
class Judged:
    """A scenario's last measurement, its verdicts and how many attempts it took."""

    result: ScenarioResult
    verdicts: list[BudgetVerdict]
    attempts: int


def judge(
    measure: Callable[[], ScenarioResult],
    budgets: list[Budget],
    quiet_calibrations_ms: list[float],
    quiet_wait: float = 0.0,
    progress: Callable[[str], None] = lambda line: None,
) -> Judged:
    """`measure` a scenario and judge it, again while a breach may be the machine's doing.
    The quiet calibration is the fastest of `quiet_calibrations_ms` (the baseline's) and
    of those measured here on a quiet machine; 0 when none is known, which takes off a
    quiet calibration's fraction of a millisecond too many. `quiet_wait` is how long the
    scenario's own processes waited for a CPU on a quiet machine (the baseline's highest)."""
    quiet = list(quiet_calibrations_ms)
    attempt = 0
    while True:
        attempt += 1
        result = measure()
        if not _use(result).busy(quiet_wait):
            quiet += [*result.run_calibration_p50_ms, *result.calibration_after_p50_ms]
        verdicts = judge_result(result, budgets, min(quiet, default=0.0), quiet_wait)
        if attempt == ATTEMPTS or not any(v.status == "inconclusive" for v in verdicts):
            return Judged(result, verdicts, attempt)
        progress(f"{result.name}: a breach while the machine was busy; measuring again")


def judge_result(
    result: ScenarioResult, budgets: list[Budget], quiet_ms: float, quiet_wait: float = 0.0
) -> list[BudgetVerdict]:
    """Each budget of `result`'s scenario judged, aware of the machine's load beyond the
    scenario's own (`quiet_wait`)."""
    results = PerfResults(backend="", scenarios={result.name: result})
    use = _use(result)
    verdicts = []
    for budget in budgets:
        verdict = budget.judge(results.figure(budget), results.note(budget))
        if (
            verdict.status == "broke"
            and use.busy(quiet_wait)
            and budget.metric not in UNMOVED_BY_LOAD
            and not _breach_beyond(verdict, result, quiet_ms)
        ):
            verdict = BudgetVerdict(
                verdict.budget, verdict.figure, busy=_busy_text(result, quiet_ms)
            )
        verdicts.append(verdict)
    return verdicts


def _use(result: ScenarioResult) -> MachineUse:
    """The machine's load during the scenario's last (or only) run."""
    others = result.others_share[-1] if result.others_share else 0.0
    return MachineUse(others, result.wait_ratio[-1] if result.wait_ratio else 0.0)


def _breach_beyond(verdict: BudgetVerdict, result: ScenarioResult, quiet_ms: float) -> bool:
    """Whether the figure still breaks its budget with the busy machine's share taken off."""
    budget = verdict.budget
    assert verdict.figure is not None
    if budget.metric not in PERCENTILES:
        return False
    return not budget.within(verdict.figure - _machine_excess_ms(result, quiet_ms))


def _machine_excess_ms(result: ScenarioResult, quiet_ms: float) -> float:
    calibration = _calibration(result)
    return max(calibration - quiet_ms, 0.0) * (1 + _use(result).wait_ratio)


def _calibration(result: ScenarioResult) -> float:
    """The slower of the calibrations right before and after the scenario's last run."""
    return max([*result.run_calibration_p50_ms[-1:], *result.calibration_after_p50_ms[-1:]])


def _busy_text(result: ScenarioResult, quiet_ms: float) -> str:
    use = _use(result)
    calibration = _calibration(result)
    quiet = f"a quiet {quiet_ms:.2f} ms" if quiet_ms else "no quiet one known (no baseline)"
    return (
        f"the machine was too busy to judge (calibration p50 {calibration:.2f} ms against "
        f"{quiet}; {use.text})"
    )


def judge_comparison(
    comparison: Comparison, current: Runs, baseline: Runs, result: ScenarioResult
) -> Comparison:
    """`comparison` of `current` (a request of `result`) with `baseline`: a regression
    kept only beyond what the busy machine's stretch can explain (its wait for a CPU
    beyond the baseline's), and then told with both sides' machine figures, which tell a
    slow service from a slow machine."""
    if not comparison.regressed:
        return comparison
    use = _use(result)
    quiet_wait = max(baseline.waits, default=0.0)
    if use.busy(quiet_wait):
        stretch = max(1.0, (1 + use.wait_ratio) / (1 + quiet_wait))
        beyond = statistics.median(current.p50s) / stretch / max(baseline.p50s) - 1
        if beyond <= THRESHOLD:
            return replace(
                comparison,
                regressed=False,
                inconclusive=True,
                text=f"{comparison.text}; inconclusive: the machine was busy ({use.text}), "
                f"and divided by that stretch (x{stretch:.1f}) the run is {beyond:+.0%} "
                "against the baseline's slowest run",
            )
    return replace(comparison, text=f"{comparison.text} ({_both_machines(baseline, use)})")


def _both_machines(baseline: Runs, use: MachineUse) -> str:
    calibrations = f"{min(baseline.calibrations):.2f}-{max(baseline.calibrations):.2f} ms"
    waits = (
        f", waited {min(baseline.waits):.2f}-{max(baseline.waits):.2f}" if baseline.waits else ""
    )
    return (
        f"this run: {use.text}; the baseline's {len(baseline.p50s)} runs: calibration "
        f"{calibrations}{waits}"
    )


def judge_setup(comparison: Comparison, differences: list[str], backend: str) -> Comparison:
    """A regression against a baseline recorded on another setup
    (`harness.perf._environment`): inconclusive, naming what differs and the fix."""
    if not comparison.regressed or not differences:
        return comparison
    return replace(
        comparison,
        regressed=False,
        inconclusive=True,
        text=f"{comparison.text}; inconclusive: the baseline was recorded on another setup "
        f"({'; '.join(differences)}); record it where this gate runs: "
        f"invoke perf.baseline --db {backend}",
    )


def confirm(first: dict[str, Comparison], again: dict[str, Comparison]) -> dict[str, Comparison]:
    """The regressions of `first` judged by a second measurement (`again`, same keys): one
    that regresses again stands, with both texts; one that doesn't is a notice."""
    confirmed = {}
    for key, comparison in first.items():
        second = again.get(key)
        if not comparison.regressed or second is None:
            continue
        if second.regressed:
            text = f"{comparison.text}; measured again: {second.text}"
            confirmed[key] = replace(comparison, text=text)
        else:
            text = f"{comparison.text}; not confirmed, measured again: {second.text}"
            confirmed[key] = replace(comparison, regressed=False, inconclusive=True, text=text)
    return confirmed
