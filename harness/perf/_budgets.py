"""Performance budgets from `<perf dir>/budgets.toml`, and each figure judged against one.

    [requests.default]              # every request of every scenario
    max_error_rate = 0.01
    [requests."case creation"]      # a request by its name in scenarios.toml
    p95 = 150                       # ms; also p50, p99, "p99.9"
    min_throughput = 20             # successful requests per second
    [scenarios.drafting]
    min_throughput = 100
    [services.default]              # every service; or [services.<name>]
    max_rss_mb = 300
    max_cpu_percent = 150           # mean over the measured span, % of one core
    max_memory_per_request_kb = 8   # RSS kept per request served, by trend (memory_trend)
    [database]
    max_connections = 50            # PostgreSQL, peak

Service budgets hold for the services a scenario sends requests to, and RSS and CPU ones
for the services and servers it `watch`es (they answer none of its requests, so memory
per request is no figure of theirs). Without a file,
every request may fail at most 1% and every service may keep at most 8 KiB per request;
anything else is only judged when the file sets it.

A verdict is `held`, `broke` (a failure), `not measured` (the run could not take the
figure: a notice, never a failure of the service) or `inconclusive` (the machine was
too busy to tell, `harness.perf._machine`: a notice too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from harness.config import did_you_mean, read_toml, typed
from harness.exceptions import ConfigError
from harness.perf._latency import PERCENTILES
from harness.perf._scenarios import PerfPlan

DEFAULT = "default"
_UNITS = {  # every limit of the file, in the order budgets are listed
    **{name: "ms" for name in PERCENTILES},
    "min_throughput": "req/s",
    "max_error_rate": "share",
    "max_rss_mb": "MB",
    "max_cpu_percent": "% of a core",
    "max_memory_per_request_kb": "KiB/request",
    "max_connections": "connections",
}
_PER_REQUEST = {"max_memory_per_request_kb"}  # no figure of a member only watched
BUILT_IN = {
    "requests": {DEFAULT: {"max_error_rate": 0.01}},
    "services": {DEFAULT: {"max_memory_per_request_kb": 8.0}},
}
_Limit = Annotated[float, msgspec.Meta(ge=0, description="must be a number, 0 or more")]
_Share = Annotated[
    float, msgspec.Meta(ge=0, le=1, description="must be a share from 0 to 1 (0.01 is 1%)")
]


class _BudgetsFile(msgspec.Struct, forbid_unknown_fields=True):
    """The budgets file; its tables are read one by one, to name each in an error."""

    requests: dict[str, Any] = {}
    scenarios: dict[str, Any] = {}
    services: dict[str, Any] = {}
    database: dict[str, Any] = {}


class _Limits(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A table of optional limits: `msgspec.to_builtins` gives those it sets."""


class _RequestLimits(_Limits):
    """`[requests.<name>]`: ms at each of `PERCENTILES`, successful req/s, share of errors."""

    p50: _Limit | None = None
    p95: _Limit | None = None
    p99: _Limit | None = None
    p99_9: _Limit | None = msgspec.field(default=None, name="p99.9")
    min_throughput: _Limit | None = None
    max_error_rate: _Share | None = None


class _ScenarioLimits(_Limits):
    """`[scenarios.<name>]`: successful req/s."""

    min_throughput: _Limit | None = None


class _ServiceLimits(_Limits):
    """`[services.<name>]`: MB of RSS, % of a core, KiB of RSS kept per request."""

    max_rss_mb: _Limit | None = None
    max_cpu_percent: _Limit | None = None
    max_memory_per_request_kb: _Limit | None = None
    max_memory_growth_mb: Annotated[  # retired: any value is an error naming its successor
        None,
        msgspec.Meta(
            description="replaced by max_memory_per_request_kb (memory is judged by its trend "
            "per request served, not by a total; 8 is the built-in budget)"
        ),
    ] = None


class _DatabaseLimits(_Limits):
    """`[database]`: peak PostgreSQL connections."""

    max_connections: _Limit | None = None


Level = Literal["requests", "scenarios", "services", "database"]
Status = Literal["held", "broke", "not measured", "inconclusive"]


class PerfNotice(UserWarning):
    """A figure the run could not judge: shown, never a failure."""


@dataclass(frozen=True)
class Budget:
    """One limit on one figure of one scenario: of a request or a service by `name`, of
    the scenario itself or of its database (`name` empty); `metric` is a key of the file."""

    level: Level
    scenario: str
    name: str
    metric: str
    limit: float
    unit: str

    @property
    def subject(self) -> str:
        suffix = {"requests": self.name, "services": f"{self.name} service", "database": "database"}
        return f"{self.scenario}/{suffix[self.level]}" if self.level in suffix else self.scenario

    @property
    def is_minimum(self) -> bool:
        return self.metric.startswith("min_")

    @property
    def id(self) -> str:
        return f"{self.subject}: {self.metric}"

    def within(self, figure: float) -> bool:
        return figure >= self.limit if self.is_minimum else figure <= self.limit

    def judge(self, figure: float | None, note: str = "") -> BudgetVerdict:
        return BudgetVerdict(self, figure, note)


@dataclass(frozen=True)
class BudgetVerdict:
    """A figure beside its budget; `figure` None when the run could not measure it, and
    `note` why. `busy` holds why a breach cannot be judged on this machine."""

    budget: Budget
    figure: float | None
    note: str = ""
    busy: str = ""

    @property
    def status(self) -> Status:
        if self.figure is None:
            return "not measured"
        if self.budget.within(self.figure):
            return "held"
        return "inconclusive" if self.busy else "broke"

    @property
    def ok(self) -> bool:
        """Not a failure: only a breach on a machine able to judge it fails."""
        return self.status != "broke"

    @property
    def notice(self) -> bool:
        return self.status in ("not measured", "inconclusive")

    @property
    def text(self) -> str:
        budget = self.budget
        limit = _show(budget.limit, budget.unit)
        if self.figure is None:
            because = f": {self.note}" if self.note else ""
            return f"{budget.id}: not measured (budget {limit}){because}"
        figure = _show(self.figure, budget.unit)
        if self.status == "inconclusive":
            return f"{budget.id} = {figure} over the budget of {limit}: inconclusive, {self.busy}"
        relation = {"held": "≥" if budget.is_minimum else "≤", "broke": "breaks"}[self.status]
        return f"{budget.id} = {figure} {relation} the budget of {limit}"


def _show(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.2%}"
    if unit == "KiB/request":
        return f"{value:,.2f} {unit}"
    return f"{value:,.0f} {unit}" if unit == "connections" else f"{value:,.1f} {unit}"


def load_budgets(path: Path, plan: PerfPlan, services: set[str], backend: str) -> list[Budget]:
    """Every budget that applies to `plan` on `backend`, defaults expanded; `services`: the
    stack's services and servers, which `[services.<name>]` may name.

    Service and database budgets hold per scenario (`drafting/records`); the database
    ones only on PostgreSQL, where there are connections to count. No file at `path`
    gives the built-in budgets.
    """
    where = str(path)
    file = typed(read_toml(path) if path.exists() else {}, _BudgetsFile, where)
    scenarios = plan.scenarios.values()
    requests = [(s.name, name) for s in scenarios for name in s.figure_names]
    uses = [
        (s.name, member)
        for s in scenarios
        for member in sorted((s.measured_services | s.watched) & services)
    ]
    budgets: list[Budget] = []
    budgets += _expand(file.requests, "requests", _RequestLimits, requests, where)
    scenario_subjects = [(s.name, "") for s in scenarios]
    budgets += _expand(file.scenarios, "scenarios", _ScenarioLimits, scenario_subjects, where)
    watched = {(s.name, member) for s in scenarios for member in s.watched}
    for_services = _expand(file.services, "services", _ServiceLimits, uses, where, sorted(services))
    budgets += [
        budget
        for budget in for_services
        if budget.metric not in _PER_REQUEST or (budget.scenario, budget.name) not in watched
    ]
    database = msgspec.to_builtins(typed(file.database, _DatabaseLimits, f"{where}: database"))
    if backend == "postgres":
        budgets += [
            Budget("database", s.name, "", metric, limit, _UNITS[metric])
            for s in scenarios
            for metric, limit in database.items()
        ]
    return budgets


def _expand(
    raw: dict[str, Any],
    level: Level,
    model: type[_Limits],
    subjects: list[tuple[str, str]],
    where: str,
    known: list[str] | None = None,
) -> list[Budget]:
    """Budgets for each (scenario, name): the file's table for the name (the scenario's, for
    scenario budgets) over its `default` table over the built-in one. A table may name
    any of `known` (default: the subjects' names)."""
    keyed = [(scenario, name, name or scenario) for scenario, name in subjects]
    known = known or sorted({file_name for _, _, file_name in keyed})
    tables = {**BUILT_IN.get(level, {})}
    for key_name, table in raw.items():
        key = f"{where}: {level}.{key_name}"
        if key_name != DEFAULT and key_name not in known:
            raise ConfigError(
                f"{key}: no such {level[:-1]}{did_you_mean(key_name, known)}; known: {known}"
            )
        limits = msgspec.to_builtins(typed(table, model, key))
        tables[key_name] = {**tables.get(key_name, {}), **limits}
    budgets = []
    for scenario, name, file_name in keyed:
        merged = {**tables.get(DEFAULT, {}), **tables.get(file_name, {})}
        budgets += [
            Budget(level, scenario, name, metric, merged[metric], unit)
            for metric, unit in _UNITS.items()
            if metric in merged
        ]
    return budgets
