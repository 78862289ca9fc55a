"""A perf run's figures as plain data: what reports show, budgets judge and baselines keep.

Saved as JSON per back end (`reports/perf/<db>.json`); a baseline is the same file kept
under `<perf dir>/baselines/`, usually several runs `pooled` into one. Each request keeps
its HDR histogram (encoded), so runs pool without averaging percentiles, and each run's
own p50 and calibration, so a comparison can tell run-to-run noise (`harness.perf._regression`).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.exceptions import ConfigError
from harness.perf import _latency as latency
from harness.perf import _memory_trend as memory_trend
from harness.perf._budgets import Budget
from harness.perf._load_runner import LoadResult, RequestFigures, error_rate
from harness.perf._machine import MachineUse
from harness.perf._resources import ResourceSampler
from harness.perf._stress import Level, RampResult

FORMAT = 3
_SERVICE_FIGURES = {
    "max_rss_mb": "peak_rss_mb",
    "max_cpu_percent": "cpu_percent",
    "max_memory_per_request_kb": "memory_kib_per_request",
}


@dataclass
class RequestResult:
    """One request of a scenario over the measured span (of every pooled run)."""

    count: int
    errors: int
    error_rate: float
    throughput: float
    percentiles_ms: dict[str, float]
    max_ms: float
    window_p50_ms: list[float]
    run_p50_ms: list[float]
    histogram: str
    error_examples: list[str] = field(default_factory=list)


@dataclass
class ServiceUse:
    """One service during one scenario; memory kept per request (`harness.perf._memory_trend`)
    is None when it could not be read, `memory_note` saying why."""

    peak_rss_mb: float
    cpu_percent: float
    memory_kib_per_request: float | None
    memory_requests: int
    memory_note: str = ""


@dataclass
class ScenarioResult:
    name: str
    model: str
    measured_seconds: float
    throughput: float
    runner_cpu_percent: float
    run_calibration_p50_ms: list[float]
    requests: dict[str, RequestResult]
    services: dict[str, ServiceUse]
    invalid_reasons: list[str] = field(default_factory=list)
    target_rate: float | None = None
    issued_rate: float | None = None
    issue_lag_p99_ms: float | None = None
    peak_connections: int | None = None
    calibration_after_p50_ms: list[float] = field(default_factory=list)
    others_share: list[float] = field(default_factory=list)
    wait_ratio: list[float] = field(default_factory=list)
    # per run, the calibration request's p50 while the load ran (`_loaded_calibration`);
    # a run that got no answer to it leaves the list shorter than the runs
    loaded_calibration_p50_ms: list[float] = field(default_factory=list)
    # figures read in power-of-two buckets (Redis's command time): budgets judge them, a
    # baseline cannot (one bucket's step is +100%)
    bucketed: list[str] = field(default_factory=list)

    @property
    def calibration_p50_ms(self) -> float:
        """The calibration endpoint's p50 (the median over pooled runs)."""
        return statistics.median(self.run_calibration_p50_ms)


@dataclass
class PerfResults:
    backend: str
    scenarios: dict[str, ScenarioResult]
    stress: dict[str, RampResult] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    # the setup the figures depend on (`harness.perf._environment.describe`)
    machine: dict[str, str] = field(default_factory=dict)

    def figure(self, budget: Budget) -> float | None:
        """The figure `budget` limits, or None when this run did not measure it."""
        scenario = self.scenarios.get(budget.scenario)
        if scenario is None:
            return None
        if budget.level == "scenarios":
            return scenario.throughput
        if budget.level == "database":
            return scenario.peak_connections
        if budget.level == "services":
            use = scenario.services.get(budget.name)
            return None if use is None else getattr(use, _SERVICE_FIGURES[budget.metric])
        request = scenario.requests.get(budget.name)
        if request is None:
            return None
        if budget.metric == "min_throughput":
            return request.throughput
        if budget.metric == "max_error_rate":
            return request.error_rate
        return request.percentiles_ms[budget.metric] if request.count else None

    def note(self, budget: Budget) -> str:
        """Why `figure(budget)` is None, when it is."""
        scenario = self.scenarios.get(budget.scenario)
        if scenario is None:
            return "the scenario did not run"
        use = scenario.services.get(budget.name)
        if budget.level == "services" and use is not None:
            return use.memory_note
        if budget.level == "requests":
            return "no request got a successful answer"
        return ""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"format": FORMAT, **asdict(self)}
        path.write_text(json.dumps(document, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> PerfResults:
        """Results saved by `save`; a ConfigError naming the file when it is not one."""
        try:
            data = json.loads(path.read_text())
            if data.pop("format", None) != FORMAT:
                raise ValueError(f"not format {FORMAT}; record it again")
            data["scenarios"] = {
                name: _scenario(scenario) for name, scenario in data["scenarios"].items()
            }
            data["stress"] = {name: _ramp(ramp) for name, ramp in data.get("stress", {}).items()}
            return cls(**data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: not perf results harness can read: {exc}") from None


def _ramp(data: dict[str, Any]) -> RampResult:
    data["levels"] = [Level(**level) for level in data["levels"]]
    data["recovery"] = Level(**data["recovery"])
    return RampResult(**data)


def _scenario(data: dict[str, Any]) -> ScenarioResult:
    data["requests"] = {name: RequestResult(**r) for name, r in data["requests"].items()}
    data["services"] = {name: ServiceUse(**u) for name, u in data["services"].items()}
    return ScenarioResult(**data)


def summarise(
    load: LoadResult,
    calibrations: list[LoadResult],
    sampler: ResourceSampler,
    machine_use: MachineUse,
    peak_connections: int | None = None,
    watched: Collection[str] = (),
    bucketed: Mapping[str, RequestFigures] | None = None,
    loaded_calibration_ms: float | None = None,
) -> ScenarioResult:
    """A scenario's result from its load run, the calibrations before and after it, the
    resource samples (of the services it sent to and the members it `watched`), figures
    read in buckets beside the load (`bucketed`: Redis's command time), the machine's
    load while it ran and the calibration request's p50 under that load."""
    bucketed = bucketed or {}
    start, end = load.measure_start, load.measure_start + load.measured_seconds
    before, after = (
        latency.percentile_ms(run.requests[next(iter(run.requests))].histogram, "p50")
        for run in calibrations
    )
    return ScenarioResult(
        name=load.scenario,
        model=load.model,
        measured_seconds=load.measured_seconds,
        throughput=load.throughput,
        runner_cpu_percent=load.runner_cpu_percent,
        run_calibration_p50_ms=[before],
        calibration_after_p50_ms=[after],
        others_share=[machine_use.others_share],
        wait_ratio=[machine_use.wait_ratio],
        loaded_calibration_p50_ms=[] if loaded_calibration_ms is None else [loaded_calibration_ms],
        requests={
            name: _request(figures, load.measured_seconds)
            for name, figures in {**load.requests, **load.streams, **bucketed}.items()
        },
        services={
            member: _use(member, load, sampler, start, end)
            for member in [*load.served_at, *sorted(watched)]
        },
        invalid_reasons=load.invalid_reasons,
        target_rate=load.target_rate,
        issued_rate=load.issued_rate,
        issue_lag_p99_ms=latency.percentile_ms(load.issue_lag, "p99") if load.target_rate else None,
        peak_connections=peak_connections,
        bucketed=list(bucketed),
    )


_WATCHED = "watched for RSS and CPU: it answers none of the scenario's requests"


def _use(
    service: str, load: LoadResult, sampler: ResourceSampler, start: float, end: float
) -> ServiceUse:
    peak_rss_mb = sampler.peak_rss_mb(service, start, end)
    cpu_percent = sampler.cpu_percent(service, start, end)
    if service not in load.served_at:  # watched: it answers none of the requests
        return ServiceUse(peak_rss_mb, cpu_percent, None, 0, _WATCHED)
    trend = memory_trend.fit(
        sampler.rss_series(service), load.served_at[service], load.window_bounds
    )
    return ServiceUse(
        peak_rss_mb=peak_rss_mb,
        cpu_percent=cpu_percent,
        memory_kib_per_request=trend.kib_per_request,
        memory_requests=trend.requests,
        memory_note=trend.reason,
    )


def _request(figures: RequestFigures, seconds: float) -> RequestResult:
    return _request_of(
        figures.histogram,
        figures.errors,
        seconds,
        window_p50_ms=[
            latency.percentile_ms(window, "p50")
            for window in figures.windows
            if window.get_total_count()
        ],
        error_examples=figures.error_examples,
    )


def _request_of(
    histogram: HdrHistogram,
    errors: int,
    seconds: float,
    window_p50_ms: list[float],
    error_examples: list[str],
    run_p50_ms: list[float] | None = None,
) -> RequestResult:
    """A request's figures from its histogram; `run_p50_ms` defaults to its own p50."""
    summary = latency.LatencySummary.of(histogram)
    return RequestResult(
        count=summary.count,
        errors=errors,
        error_rate=error_rate(summary.count, errors),
        throughput=summary.count / seconds if seconds else 0.0,
        percentiles_ms=summary.percentiles_ms,
        max_ms=summary.max_ms,
        window_p50_ms=window_p50_ms,
        run_p50_ms=[summary.percentiles_ms["p50"]] if run_p50_ms is None else run_p50_ms,
        histogram=latency.encode(histogram),
        error_examples=error_examples,
    )


def pooled(runs: list[PerfResults]) -> PerfResults:
    """Several runs of the same scenarios on one back end as one result: histograms
    merged, windows and each run's p50 and calibration kept; a service's worst figures."""
    first = runs[0]
    return PerfResults(
        backend=first.backend,
        scenarios={
            name: _pooled_scenario([run.scenarios[name] for run in runs])
            for name in first.scenarios
        },
        machine=first.machine,
    )


def _pooled_scenario(runs: list[ScenarioResult]) -> ScenarioResult:
    seconds = sum(run.measured_seconds for run in runs)
    requests = {}
    for name in runs[0].requests:
        each = [run.requests[name] for run in runs]
        requests[name] = _request_of(
            latency.merged(latency.decode(request.histogram) for request in each),
            sum(request.errors for request in each),
            seconds,
            window_p50_ms=[p50 for request in each for p50 in request.window_p50_ms],
            run_p50_ms=[p50 for request in each for p50 in request.run_p50_ms],
            error_examples=[example for request in each for example in request.error_examples],
        )
    return replace(
        runs[0],
        measured_seconds=seconds,
        throughput=sum(run.throughput * run.measured_seconds for run in runs) / seconds,
        runner_cpu_percent=max(run.runner_cpu_percent for run in runs),
        run_calibration_p50_ms=[p50 for run in runs for p50 in run.run_calibration_p50_ms],
        calibration_after_p50_ms=[p50 for run in runs for p50 in run.calibration_after_p50_ms],
        others_share=[share for run in runs for share in run.others_share],
        wait_ratio=[ratio for run in runs for ratio in run.wait_ratio],
        loaded_calibration_p50_ms=[p50 for run in runs for p50 in run.loaded_calibration_p50_ms],
        requests=requests,
        services={name: _worst([run.services[name] for run in runs]) for name in runs[0].services},
        invalid_reasons=[reason for run in runs for reason in run.invalid_reasons],
        peak_connections=max(
            (run.peak_connections for run in runs if run.peak_connections is not None),
            default=None,
        ),
    )


def _worst(uses: list[ServiceUse]) -> ServiceUse:
    """A service's highest figures over several runs; memory per request the highest of
    the runs that could read it."""
    read = [use for use in uses if use.memory_kib_per_request is not None]
    memory = max(read, key=lambda use: use.memory_kib_per_request or 0.0) if read else uses[0]
    return ServiceUse(
        peak_rss_mb=max(use.peak_rss_mb for use in uses),
        cpu_percent=max(use.cpu_percent for use in uses),
        memory_kib_per_request=memory.memory_kib_per_request,
        memory_requests=memory.memory_requests,
        memory_note=memory.memory_note,
    )
