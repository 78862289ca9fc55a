"""Noise-aware comparison of a run with a baseline, as asv and pyperf do it.

Two kinds of noise, two checks. Within a run, each side is a set of repeated samples
(one per measurement window): a change counts only when the Mann-Whitney U test finds
the two sets different (two-sided p < `alpha`) *and* their medians differ by more than
`threshold`. Between runs these machines drift far more (here, the same code measured
up to twice as slow a quarter of an hour later), which no test on the windows of one run
can see. So a baseline holds several runs (`invoke perf.baseline --repeats`, at least
`MIN_BASELINE_RUNS`: fewer cannot show that noise, and judge nothing), and a regression
must also be slower than the slowest of them by over `threshold`: raw, and relative to
each run's calibration endpoint, so that a machine slower across the board is not
reported.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cache

ALPHA = 0.05
THRESHOLD = 0.20
MIN_SAMPLES = 3
MIN_BASELINE_RUNS = 3
_EXACT_LIMIT = 400  # n1 * n2 up to which the exact U distribution is computed


@dataclass(frozen=True)
class Comparison:
    """Current against baseline: relative change of the medians and its significance."""

    change: float
    p_value: float
    significant: bool
    regressed: bool
    text: str
    # a slowdown that this run's machine or setup may explain: a notice, not a failure
    inconclusive: bool = False


def compare(
    current: list[float],
    baseline: list[float],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
) -> Comparison:
    """Judge `current` samples against `baseline` samples (higher is slower)."""
    if len(current) < MIN_SAMPLES or len(baseline) < MIN_SAMPLES:
        return Comparison(
            0.0,
            1.0,
            False,
            False,
            f"not enough samples to compare ({len(current)} now, {len(baseline)} in the "
            f"baseline; {MIN_SAMPLES} needed on each side)",
        )
    change = statistics.median(current) / statistics.median(baseline) - 1
    p_value = mann_whitney_p(current, baseline)
    significant = p_value < alpha
    regressed = significant and change > threshold
    direction = "slower" if change > 0 else "faster"
    if not significant:
        text = f"no significant change ({change:+.0%}, p={p_value:.2f})"
    elif abs(change) <= threshold:
        text = (
            f"{direction} by {abs(change):.0%} (significant, p={p_value:.3f}, "
            f"within the {threshold:.0%} threshold)"
        )
    else:
        text = f"{direction} by {abs(change):.0%} (significant, p={p_value:.3f})"
    return Comparison(change, p_value, significant, regressed, text)


def mann_whitney_p(first: list[float], second: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test.

    Exact (from the distribution of U) for small samples without ties, else the normal
    approximation with tie correction and continuity correction.
    """
    n1, n2 = len(first), len(second)
    ranks = _midranks([*first, *second])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    tied = len(set(first) | set(second)) < n1 + n2
    if not tied and n1 * n2 <= _EXACT_LIMIT:
        at_most = sum(_arrangements(k, n1, n2) for k in range(int(u) + 1))
        return min(1.0, 2 * at_most / math.comb(n1 + n2, n1))
    n = n1 + n2
    tie_term = sum(t**3 - t for t in _tie_sizes([*first, *second]))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


@cache
def _arrangements(u: int, n1: int, n2: int) -> int:
    """How many orderings of n1 + n2 distinct values give the first sample a U of `u`."""
    if u < 0:
        return 0
    if n1 == 0 or n2 == 0:
        return 1 if u == 0 else 0
    return _arrangements(u - n2, n1 - 1, n2) + _arrangements(u, n1, n2 - 1)


def _midranks(values: list[float]) -> list[float]:
    """Rank of each value (1-based), tied values sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _tie_sizes(values: list[float]) -> list[int]:
    return [count for count in Counter(values).values() if count > 1]


@dataclass(frozen=True)
class Runs:
    """One side of a comparison: window p50s pooled over its runs (ms), and each run's
    p50, its calibration endpoint's p50 and how long its processes waited for a CPU per
    second they ran (`harness.perf._machine`; none known in baselines before it)."""

    windows: list[float]
    p50s: list[float]
    calibrations: list[float]
    waits: list[float] = field(default_factory=list)

    def calibrated(self) -> list[float]:
        return [
            p50 / calibration for p50, calibration in zip(self.p50s, self.calibrations, strict=True)
        ]


def compare_runs(
    current: Runs,
    baseline: Runs,
    threshold: float = THRESHOLD,
    anchor: str = "the calibration endpoint",
) -> Comparison:
    """A regression only when the windows say so and the run is slower than every
    baseline run by over `threshold`, raw and relative to the calibration (`anchor`
    names which: alone, or under the scenario's load)."""
    windows = compare(current.windows, baseline.windows, threshold)
    runs = len(baseline.p50s)
    if runs < MIN_BASELINE_RUNS:
        return replace(
            windows,
            regressed=False,
            text=f"{windows.text}; not judged: a baseline of {runs} run{'s' * (runs > 1)} "
            f"cannot show run-to-run noise, record one of at least {MIN_BASELINE_RUNS} "
            f"(invoke perf.baseline --repeats {MIN_BASELINE_RUNS})",
        )
    if not windows.regressed:
        return windows
    beyond = statistics.median(current.p50s) / max(baseline.p50s) - 1
    calibrated = statistics.median(current.calibrated()) / max(baseline.calibrated()) - 1
    margins = (
        f"{beyond:+.0%} against the slowest of the baseline's {runs} runs, "
        f"{calibrated:+.0%} relative to {anchor}"
    )
    if beyond > threshold and calibrated > threshold:
        return replace(windows, text=f"{windows.text}: {margins}")
    text = f"{windows.text}, but within run-to-run noise plus {threshold:.0%}: {margins}"
    return replace(windows, regressed=False, text=text)
