"""Noise-aware comparison of a run with a baseline, as asv does it.

Each side is a set of repeated samples (one per measurement window). A change counts
only when the Mann-Whitney U test finds the two sets different (two-sided p < `alpha`)
*and* the medians differ by more than `threshold`; one run against a fixed limit would
flag ordinary noise on these machines (±10% run to run). `compare_calibrated` also asks
it of the samples divided by each run's calibration endpoint, so that neither a slower
machine (raw slower, calibrated not) nor a noisy calibration (the reverse) is reported.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import cache

ALPHA = 0.05
THRESHOLD = 0.20
MIN_SAMPLES = 3
_EXACT_LIMIT = 400  # n1 * n2 up to which the exact U distribution is computed


@dataclass(frozen=True)
class Comparison:
    """Current against baseline: relative change of the medians and its significance."""

    change: float
    p_value: float
    significant: bool
    regressed: bool
    text: str


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
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return [count for count in counts.values() if count > 1]


def compare_calibrated(
    current: list[float],
    baseline: list[float],
    current_calibration: float,
    baseline_calibration: float,
) -> Comparison:
    """A regression only when the raw samples and the calibrated ones both show one."""
    raw = compare(current, baseline)
    calibrated = compare(
        [value / current_calibration for value in current],
        [value / baseline_calibration for value in baseline],
    )
    return Comparison(
        change=raw.change,
        p_value=raw.p_value,
        significant=raw.significant and calibrated.significant,
        regressed=raw.regressed and calibrated.regressed,
        text=f"{raw.text}; against the calibration endpoint: {calibrated.change:+.0%}",
    )
