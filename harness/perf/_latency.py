"""Latency histograms: HdrHistogram in microseconds, summarised as percentiles in ms.

Percentiles are only ever read from a histogram (merged when several are combined),
never averaged: the mean of two p99s is not a p99.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 60_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}


def new_histogram() -> HdrHistogram:
    """An empty histogram covering 1 µs to 60 s with 3 significant digits."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_seconds(histogram: HdrHistogram, seconds: float) -> None:
    """Record one latency given in seconds, clamped into the histogram's range."""
    histogram.record_value(min(max(round(seconds * 1e6), LOWEST_US), HIGHEST_US))


def merged(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    """One histogram holding every value of `histograms`."""
    total = new_histogram()
    for histogram in histograms:
        total.add(histogram)
    return total


def encode(histogram: HdrHistogram) -> str:
    """The histogram as compressed text, for JSON results that can be merged later."""
    return histogram.encode().decode("ascii")


def decode(text: str) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii"))


def percentile_ms(histogram: HdrHistogram, name: str) -> float:
    """One of `PERCENTILES` of `histogram`, in ms (0 when it is empty)."""
    return histogram.get_value_at_percentile(PERCENTILES[name]) / 1000


@dataclass(frozen=True)
class LatencySummary:
    """Count and percentiles (milliseconds) of one histogram."""

    count: int
    min_ms: float
    max_ms: float
    percentiles_ms: dict[str, float]

    @classmethod
    def of(cls, histogram: HdrHistogram) -> LatencySummary:
        count = histogram.get_total_count()
        if not count:
            return cls(0, 0.0, 0.0, {name: 0.0 for name in PERCENTILES})
        return cls(
            count=count,
            min_ms=histogram.get_min_value() / 1000,
            max_ms=histogram.get_max_value() / 1000,
            percentiles_ms={name: percentile_ms(histogram, name) for name in PERCENTILES},
        )
