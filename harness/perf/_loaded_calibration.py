"""The calibration request sent while a scenario's load runs, too: a yardstick measured in
the same run, under the same load, meeting the same queues.

The lone calibration before and after a scenario shows how fast the machine is, not how
much slower it gets under load. Here a busier hour left the lone request 1.2 times as
slow while drafting, which keeps the CPUs busy by itself, got twice as slow; a container's
CPU quota slows a loaded run and not a lone request at all. Sent on a connection of its
own during drafting, the same request moved with the load: over six measurements (quiet,
and under a 1.5-CPU quota) case creation's p50 varied 1.75-fold and its ratio to this
request 1.2-fold, while a 2 ms CPU regression of case creation raised its ratio 1.6 to
1.8-fold and left the other requests' as they were (`harness.perf._regression` compares
these ratios; `benchmarks/busy_verdicts.py` reruns the experiment).
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from urllib.parse import urlsplit

from harness.perf._periodic import Periodic
from harness.perf._scenarios import Step


class LoadedCalibration(Periodic):
    """Sends `step` to the service at `url` from a background thread while entered."""

    def __init__(self, url: str, step: Step, interval: float = 0.05) -> None:
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        self._step = step
        self._body = None if step.json is None else json.dumps(step.json).encode()
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (sent at, milliseconds) of good answers

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        self._connection.close()

    def _take(self) -> None:
        headers = {} if self._body is None else {"Content-Type": "application/json"}
        sent = time.perf_counter()
        try:
            self._connection.request(self._step.method, self._step.path, self._body, headers)
            response = self._connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()  # the next request connects afresh
            return
        if response.status == self._step.expect:
            self.samples.append((sent, (time.perf_counter() - sent) * 1000))

    def p50_ms(self, start: float, end: float) -> float | None:
        """The median of the answers sent from `start` to `end` (perf_counter moments);
        None when none was answered as expected."""
        inside = [ms for sent, ms in self.samples if start <= sent < end]
        return statistics.median(inside) if inside else None
