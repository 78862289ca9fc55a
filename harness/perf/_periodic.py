"""The clock of the perf samplers: read once on entering, every `interval` seconds from a
background thread while entered, and once more on leaving, so the readings span the run."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Self, TypeVar

T = TypeVar("T")


class Periodic:
    """A sampler whose `_take()` is called periodically while it is entered."""

    interval: float

    def _take(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()


def at_or_after(readings: Sequence[tuple[float, T]], moment: float) -> T:
    """The first reading taken at or after `moment` (the last one, if none is)."""
    return reading_at_or_after(readings, moment)[1]


def reading_at_or_after(readings: Sequence[tuple[float, T]], moment: float) -> tuple[float, T]:
    """That reading with the moment it was taken."""
    return next((reading for reading in readings if reading[0] >= moment), readings[-1])
