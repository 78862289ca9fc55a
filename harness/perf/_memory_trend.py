"""Leaks found by trend, not total: RSS fitted against the requests a service served.

A service's RSS is read at each measurement window's boundary (after warm-up) beside how
many requests it had served by the moment it was read (a sampler a busy machine held back
reads late). Each window gives its growth per request served; the median over the
windows is the memory the service keeps per request. One allocator step (an arena grown,
a cache filled) lands in one window and moves the median by nothing, so it does not read
as a leak; a steady leak shows in every window and does.

Too few requests or windows give no figure, with the reason: a notice, not a failure.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from dataclasses import dataclass

from harness.perf._periodic import reading_at_or_after

MIN_REQUESTS = 300  # served while measured: below this, a few MB of noise is ~10 KB/request
MIN_POINTS = 4
KIB = 1024


@dataclass(frozen=True)
class MemoryTrend:
    """Memory kept per request (KiB) over `requests` served, or None with the reason."""

    kib_per_request: float | None
    requests: int
    reason: str = ""


def fit(
    rss_at: list[tuple[float, int]], served_at: list[float], boundaries: list[float]
) -> MemoryTrend:
    """The trend from RSS samples (moment, bytes), the moments requests were answered, and
    the window boundaries of the measured span (its start first, its end last)."""
    ordered = sorted(served_at)
    readings = [reading_at_or_after(rss_at, moment) for moment in boundaries]
    # the requests served by the moment each RSS was read: a sampler a busy machine held
    # back reads late, and the count must be as late as the RSS it is set against
    points = [(bisect.bisect_right(ordered, at), rss) for at, rss in readings]
    requests = points[-1][0] - points[0][0]
    if requests < MIN_REQUESTS:
        return MemoryTrend(
            None,
            requests,
            f"the service answered {requests} requests while measured, {MIN_REQUESTS} are "
            "needed to read memory per request; a longer sustain phase or a larger share of "
            "the scenario's requests gives the figure",
        )
    distinct = {count for count, _ in points}
    if len(distinct) < MIN_POINTS:
        return MemoryTrend(
            None, requests, f"requests reached the service in fewer than {MIN_POINTS} windows"
        )
    slopes = [
        (rss_b - rss_a) / (count_b - count_a)
        for (count_a, rss_a), (count_b, rss_b) in itertools.pairwise(points)
        if count_b > count_a
    ]
    return MemoryTrend(statistics.median(slopes) / KIB, requests)
