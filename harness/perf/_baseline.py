"""The committed baseline (`<perf dir>/baselines/<db>.json`): several runs pooled into one,
checked before it is kept, so the regression gate judges against run-to-run noise.

`invoke perf.baseline` measures the runs (each on a fresh stack) or reads `saved_run`s,
then `pool_checked` and `keep` them; the task only parses, calls and prints.
"""

from __future__ import annotations

from pathlib import Path

from harness.exceptions import HarnessError
from harness.perf._results import PerfResults, pooled


class BaselineError(HarnessError):
    """The runs cannot make a baseline; the message says why."""


def saved_run(path: Path, selected: list[str]) -> PerfResults:
    """Saved results holding (at least) the `selected` scenarios, cut down to them."""
    saved = PerfResults.load(path)
    missing = [name for name in selected if name not in saved.scenarios]
    if missing:
        raise BaselineError(
            f"not recorded, {path} has no figures for scenario {missing}; "
            "name the ones it has with --scenario"
        )
    saved.scenarios = {name: saved.scenarios[name] for name in selected}
    return saved


def pool_checked(runs: list[PerfResults]) -> PerfResults:
    """The runs pooled, refused when they mix back ends or the generator set a figure."""
    backends = {run.backend for run in runs}
    if len(backends) > 1:
        raise BaselineError(f"not recorded, the results are of several back ends {backends}")
    measured = pooled(runs)
    invalid = {
        name: s.invalid_reasons for name, s in measured.scenarios.items() if s.invalid_reasons
    }
    if invalid:
        raise BaselineError(f"not recorded, the load generator set the figures: {invalid}")
    return measured


def keep(measured: PerfResults, path: Path, only_these: bool) -> None:
    """Save `measured` at `path`; with `only_these`, the scenarios it lacks are kept from
    the baseline already there."""
    if path.exists() and only_these:
        kept = PerfResults.load(path)
        measured.scenarios = {**kept.scenarios, **measured.scenarios}
    measured.save(path)


def summary(measured: PerfResults) -> list[str]:
    """One line per scenario: its runs, throughput and each run's calibration."""
    lines = []
    for name, result in measured.scenarios.items():
        calibrations = ", ".join(f"{p50:.3f}" for p50 in result.run_calibration_p50_ms)
        lines.append(
            f"{name}: {len(result.run_calibration_p50_ms)} run(s), {result.throughput:.1f} req/s,"
            f" calibration p50 {calibrations} ms"
        )
    return lines
