"""Load scenarios declared in `<perf dir>/scenarios.toml` -> typed, validated `Scenario`s.

A scenario is a weighted mix of requests sent by virtual users, in phases: ramp-up,
warm-up, sustain (the only one measured) and ramp-down. Each user first runs the
scenario's `setup` steps (untimed) and keeps what they `capture` from the responses,
so its requests can name `{case_id}`; `{n}` (a number unique in the run), `{user}` and
`{run}` (unique to the run) are always there. A string that is exactly one placeholder
takes the captured value's type, so `version = "{version}"` sends a number.

A scenario with a `subscribe` table also holds WebSocket subscribers to a stream per user
(`harness.perf._stream_watch`): each of its requests publishes one message there, and the
figures `<name>: publish to receive` and `<name>: fan-out` are kept like requests'. A `lag`
table times each request's change from the services' own timestamps
(`harness.perf._lag_watch`); `watch` names more members of the stack whose RSS and CPU
are its figures, a Redis server among them giving `<server>: command time` too
(`harness.perf._redis_latency`).
"""

from __future__ import annotations

import string as string_module
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from harness.config import Count, HarnessConfig, Seconds, did_you_mean, read_toml, typed
from harness.exceptions import ConfigError

Model = Literal["closed", "open"]
BUILTIN_VARIABLES = frozenset({"n", "user", "run"})
CALIBRATION = "calibration"


@dataclass(frozen=True)
class Step:
    """One HTTP request: where to send it, the JSON body, the status it must get."""

    service: str
    method: str
    path: str
    json: Any = None
    expect: int = 200
    capture: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WeightedRequest:
    """A named request of the mix, sent `weight` times in `sum(weights)`."""

    name: str
    weight: float
    step: Step


@dataclass(frozen=True)
class Subscribe:
    """`subscribers` WebSocket connections per user to `path` of `service` (its `{name}`s
    filled from the user's setup); `name` prefixes the stream's figures."""

    service: str
    path: str
    subscribers: int
    name: str

    @property
    def figure_names(self) -> tuple[str, str]:
        """Each message's time from its publishing request's send to a subscriber's receipt,
        and to the last subscriber's receipt."""
        return f"{self.name}: publish to receive", f"{self.name}: fan-out"


def command_time(server: str) -> str:
    """The figure of a watched Redis server's own time per command."""
    return f"{server}: command time"


@dataclass(frozen=True)
class Lag:
    """Per user, a listing at `path` of `service` (its `{name}`s filled from the user's
    setup) whose items carry two timestamps the services wrote, `start` and `end` (e.g.
    accepted and applied); `name` names the figure, `end - start` per item."""

    service: str
    path: str
    start: str
    end: str
    name: str


@dataclass(frozen=True)
class Phases:
    """Seconds of each phase; only `sustain` is measured."""

    ramp_up: float = 0.0
    warmup: float = 1.0
    sustain: float = 10.0
    ramp_down: float = 0.0

    @property
    def total(self) -> float:
        return self.ramp_up + self.warmup + self.sustain + self.ramp_down


@dataclass(frozen=True)
class Scenario:
    """Who sends what, how fast, for how long.

    Closed model: `users` virtual users each send their next request `think_time` seconds
    after the last one answered. Open model: requests arrive at `rate` per second whatever
    the answers, with at most `users` in flight; latency counts from the scheduled send.
    """

    name: str
    model: Model
    users: int
    requests: tuple[WeightedRequest, ...]
    phases: Phases = Phases()
    rate: float | None = None
    think_time: float = 0.0
    max_requests: int | None = None
    windows: int = 10
    timeout: float = 10.0
    setup: tuple[Step, ...] = ()
    subscribe: Subscribe | None = None
    lag: Lag | None = None
    watch: tuple[str, ...] = ()  # more stack members whose RSS and CPU are its figures
    redis: tuple[str, ...] = ()  # the watched Redis servers, their command time a figure

    @property
    def services(self) -> set[str]:
        return self.measured_services | {s.service for s in self.setup}

    @property
    def measured_services(self) -> set[str]:
        """The services the measured phase reaches: its requests' and its stream's; a
        service only the setup calls has no figure of its own to budget."""
        stream = {self.subscribe.service} if self.subscribe else set()
        return {r.step.service for r in self.requests} | stream

    @property
    def watched(self) -> set[str]:
        """The stack members watched for RSS and CPU alone: `watch` less the measured."""
        return set(self.watch) - self.measured_services

    @property
    def figure_names(self) -> list[str]:
        """What budgets may name: the requests, then the stream's figures, the lag's and the
        watched Redis servers' command time."""
        streams = list(self.subscribe.figure_names) if self.subscribe else []
        lag = [self.lag.name] if self.lag else []
        redis = [command_time(server) for server in self.redis]
        return [request.name for request in self.requests] + streams + lag + redis

    @property
    def compared_names(self) -> list[str]:
        """The figures a baseline judges: all but those read in power-of-two buckets
        (a watched Redis server's command time: one bucket's step is +100%)."""
        return self.figure_names[: len(self.figure_names) - len(self.redis)]


@dataclass(frozen=True)
class Ramp:
    """Levels of one scenario's load, `step` seconds measured each."""

    name: str
    scenario: str
    levels: tuple[float, ...]
    step: float = 3.0


@dataclass(frozen=True)
class PerfPlan:
    """The calibration measurement, the scenarios in file order, and the stress ramps
    (`harness.perf._stress`)."""

    calibration: Scenario
    scenarios: dict[str, Scenario]
    ramps: dict[str, Ramp] = field(default_factory=dict)

    def select(self, names: list[str] | None) -> list[str]:
        """`names` checked against the plan; every scenario when none are given."""
        unknown = [name for name in names or [] if name not in self.scenarios]
        if unknown:
            raise ConfigError(f"no scenario {unknown}; the scenarios are {list(self.scenarios)}")
        return list(names or self.scenarios)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_LEVELS = "must be at least two rising positive numbers, e.g. [60, 120, 240]"
_ZeroOrMoreSeconds = Annotated[
    float, msgspec.Meta(ge=0, description="must be a number of seconds, 0 or more")
]
_Rate = Annotated[
    float, msgspec.Meta(gt=0, description="must be a positive number of requests per second")
]
_Service = Annotated[str, msgspec.Meta(description="must be the name of a service")]
_Path = Annotated[str, msgspec.Meta(pattern="^/", description="must start with '/'")]
_Named = Annotated[str, msgspec.Meta(pattern=r"\S")]  # not blank
_Tables = Annotated[list[Any], msgspec.Meta(description="must be an array of tables ([[…]])")]


class _PlanFile(msgspec.Struct, forbid_unknown_fields=True):
    """The scenarios file; its tables are read one by one, to name each in an error."""

    calibration: dict[str, Any] = {}
    scenarios: dict[str, Any] = {}
    stress: dict[str, Any] = {}


class _CalibrationTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[calibration]`: by default the first service's health endpoint."""

    service: str | None = None
    path: _Path | None = None
    sustain: Seconds = 1.5
    windows: Count = 5


class _StepTable(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A `[[scenarios.<name>.setup]]` table."""

    service: _Service
    path: _Path
    method: Annotated[
        str,
        msgspec.Meta(
            pattern=f"(?i)^({'|'.join(_METHODS)})$", description=f"must be one of {list(_METHODS)}"
        ),
    ] = "GET"
    json: Any = None
    expect: Annotated[int, msgspec.Meta(ge=100, le=599, description="must be an HTTP status")] = 200
    capture: Annotated[
        dict[str, str],
        msgspec.Meta(description="must be a table of variable = 'response field'"),
    ] = {}

    def step(self, services: set[str], key: str) -> Step:
        """The request, its service one of `services`."""
        if BUILTIN_VARIABLES & self.capture.keys():
            raise ConfigError(f"{key}.capture: {sorted(BUILTIN_VARIABLES)} are set by harness")
        service = _service_name(self.service, services, f"{key}.service")
        return Step(service, self.method.upper(), self.path, self.json, self.expect, self.capture)


class _RequestTable(_StepTable, kw_only=True):
    """A `[[scenarios.<name>.requests]]` table: a step with a name and a weight."""

    name: Annotated[_Named, msgspec.Meta(description="must name the request, e.g. 'case creation'")]
    weight: Annotated[
        float, msgspec.Meta(gt=0, description="must be a positive number of shares")
    ] = 1.0


class _SubscribeTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[scenarios.<name>.subscribe]`; `name` is the scenario's when unset."""

    service: _Service
    path: Annotated[
        str,
        msgspec.Meta(pattern="^/", description="must be the stream's path, starting with '/'"),
    ]
    subscribers: Count = 1
    name: str = ""


class _LagTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[scenarios.<name>.lag]`."""

    service: _Service
    path: Annotated[
        str,
        msgspec.Meta(pattern="^/", description="must be the listing's path, starting with '/'"),
    ]
    start: Annotated[
        _Named, msgspec.Meta(description="must name the items' start time, e.g. 'received_at'")
    ] = msgspec.field(name="from")
    end: Annotated[
        _Named, msgspec.Meta(description="must name the items' end time, e.g. 'applied_at'")
    ] = msgspec.field(name="to")
    name: Annotated[
        _Named, msgspec.Meta(description="must name the figure, e.g. 'accepted to applied'")
    ]


class _ScenarioTable(msgspec.Struct, forbid_unknown_fields=True):
    """A `[scenarios.<name>]` table."""

    model: Annotated[Model, msgspec.Meta(description="must be 'closed' or 'open'")] = "closed"
    users: Count = 10
    think_time: _ZeroOrMoreSeconds | None = None
    rate: _Rate | None = None
    ramp_up: _ZeroOrMoreSeconds = Phases.ramp_up
    warmup: _ZeroOrMoreSeconds = Phases.warmup
    sustain: Seconds = Phases.sustain
    ramp_down: _ZeroOrMoreSeconds = Phases.ramp_down
    max_requests: Count | None = None
    windows: Count = 10
    timeout: Seconds = 10.0
    setup: _Tables = []
    requests: _Tables = []
    subscribe: _SubscribeTable | None = None
    lag: _LagTable | None = None
    watch: Annotated[
        list[str], msgspec.Meta(description="must be a list of service or server names")
    ] = []


class _RampTable(msgspec.Struct, forbid_unknown_fields=True):
    """A `[stress.<name>]` table."""

    scenario: Annotated[str, msgspec.Meta(description="must name a scenario of the file")]
    levels: Annotated[
        list[Annotated[float, msgspec.Meta(gt=0)]],
        msgspec.Meta(min_length=2, description=_LEVELS),
    ]
    step: Seconds = 3.0


def load_plan(config: HarnessConfig, path: Path | None = None) -> PerfPlan:
    """Read and validate the scenarios file (default `<perf dir>/scenarios.toml`)."""
    path = path or config.perf.scenarios
    plan = typed(read_toml(path), _PlanFile, str(path))
    if not plan.scenarios:
        raise ConfigError(f"{path}: no [scenarios.<name>] table; declare at least one scenario")
    scenarios = {
        name: _scenario(name, raw, config, f"{path}: scenarios.{name}")
        for name, raw in plan.scenarios.items()
    }
    return PerfPlan(
        calibration=_calibration(plan.calibration, config, f"{path}: calibration"),
        scenarios=scenarios,
        ramps=load_ramps(plan.stress, scenarios, str(path)),
    )


def load_ramps(raw: dict[str, Any], scenarios: dict[str, Scenario], where: str) -> dict[str, Ramp]:
    """The `[stress.<name>]` tables of the scenarios file."""
    ramps = {}
    for name, table in raw.items():
        key = f"{where}: stress.{name}"
        ramp = typed(table, _RampTable, key)
        if ramp.scenario not in scenarios:
            raise ConfigError(
                f"{key}.scenario: no scenario {ramp.scenario!r}"
                f"{did_you_mean(ramp.scenario, scenarios)}; scenarios: {sorted(scenarios)}"
            )
        if ramp.levels != sorted(ramp.levels):
            raise ConfigError(f"{key}.levels: {_LEVELS}, got {ramp.levels}")
        if scenarios[ramp.scenario].model == "closed" and not all(
            level.is_integer() for level in ramp.levels
        ):
            raise ConfigError(f"{key}.levels: a closed scenario's levels are numbers of users")
        ramps[name] = Ramp(name, ramp.scenario, tuple(ramp.levels), ramp.step)
    return ramps


def _calibration(raw: dict[str, Any], config: HarnessConfig, key: str) -> Scenario:
    """A closed single-user loop on a trivial endpoint (default: the first service's health)."""
    table = typed(raw, _CalibrationTable, key)
    first = next(iter(config.services))
    service = _service_name(
        first if table.service is None else table.service, set(config.services), f"{key}.service"
    )
    path = table.path or config.services[service].health
    return Scenario(
        name=CALIBRATION,
        model="closed",
        users=1,
        requests=(WeightedRequest(CALIBRATION, 1.0, Step(service, "GET", path)),),
        phases=Phases(warmup=0.3, sustain=table.sustain),
        windows=table.windows,
    )


def _scenario(name: str, raw: Any, config: HarnessConfig, key: str) -> Scenario:
    """One [scenarios.<name>] table, its services and watched members those of `config`."""
    table = typed(raw, _ScenarioTable, key)
    if table.model == "open" and table.rate is None:
        raise ConfigError(f"{key}.rate: an open-model scenario needs a rate (requests per second)")
    if table.model == "closed" and table.rate is not None:
        raise ConfigError(f"{key}.rate: only an open-model scenario has a rate; set model = 'open'")
    if table.model == "open" and table.think_time is not None:
        raise ConfigError(f"{key}.think_time: an open-model scenario's arrivals follow its rate")
    services = set(config.services)
    setup = []
    for i, item in enumerate(table.setup):
        where = f"{key}.setup[{i}]"
        setup.append(typed(item, _StepTable, where).step(services, where))
    requests = []
    for i, item in enumerate(table.requests):
        where = f"{key}.requests[{i}]"
        request = typed(item, _RequestTable, where)
        requests.append(
            WeightedRequest(request.name, request.weight, request.step(services, where))
        )
    if not requests:
        raise ConfigError(f"{key}.requests: declare at least one [[…requests]] entry")
    names = [request.name for request in requests]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}.requests: two requests share a name; names key the budgets")
    _check_placeholders(setup, requests, key)
    subscribe = lag = None
    if table.subscribe is not None:
        stream = table.subscribe
        _per_user(stream.service, stream.path, services, setup, f"{key}.subscribe")
        subscribe = Subscribe(stream.service, stream.path, stream.subscribers, stream.name or name)
        if set(subscribe.figure_names) & set(names):
            raise ConfigError(f"{key}.subscribe.name: {subscribe.name!r} names a request too")
    if table.lag is not None:
        listing = table.lag
        _per_user(listing.service, listing.path, services, setup, f"{key}.lag")
        lag = Lag(listing.service, listing.path, listing.start, listing.end, listing.name)
        if lag.name in names or (subscribe and lag.name in subscribe.figure_names):
            raise ConfigError(f"{key}.lag.name: {lag.name!r} names another figure too")
    members = config.members
    for member in table.watch:
        if member not in members:
            raise ConfigError(
                f"{key}.watch: no service or server {member!r}{did_you_mean(member, members)}; "
                f"the stack's: {sorted(members)}"
            )
    redis = {server for server, found in config.servers.items() if found.is_redis}
    return Scenario(
        name=name,
        model=table.model,
        users=table.users,
        rate=table.rate,
        think_time=table.think_time or 0.0,
        requests=tuple(requests),
        setup=tuple(setup),
        phases=Phases(table.ramp_up, table.warmup, table.sustain, table.ramp_down),
        max_requests=table.max_requests,
        windows=table.windows,
        timeout=table.timeout,
        subscribe=subscribe,
        lag=lag,
        watch=tuple(table.watch),
        redis=tuple(member for member in table.watch if member in redis),
    )


def _per_user(service: str, path: str, services: set[str], setup: list[Step], key: str) -> None:
    """A `path` of `service` read per user: its placeholders filled by the user's setup."""
    _service_name(service, services, f"{key}.service")
    captured = {name for step in setup for name in step.capture}
    _check_known(path, BUILTIN_VARIABLES | captured, f"{key}.path")


def _check_placeholders(setup: list[Step], requests: list[WeightedRequest], key: str) -> None:
    """Every `{name}` is built in or captured by an earlier setup step; requests only update."""
    known = set(BUILTIN_VARIABLES)
    for i, step in enumerate(setup):
        _check_known([step.path, step.json], known, f"{key}.setup[{i}]")
        known |= step.capture.keys()
    for i, request in enumerate(requests):
        where = f"{key}.requests[{i}]"
        _check_known([request.step.path, request.step.json], known, where)
        new = request.step.capture.keys() - known
        if new:
            raise ConfigError(
                f"{where}.capture: {sorted(new)} not set by setup; a request may only update "
                "variables its user's setup captured"
            )


def _check_known(values: Any, known: Collection[str], key: str) -> None:
    """Every `{name}` in `values` is one of `known`."""
    for name in placeholders(values):
        if name not in known:
            raise ConfigError(
                f"{key}: unknown placeholder {{{name}}}{did_you_mean(name, known)}; "
                f"known here: {sorted(known)}"
            )


def placeholders(value: Any) -> set[str]:
    """The `{name}` placeholders in a string, or in every string of a JSON value."""
    if isinstance(value, str):
        try:
            return {field for _, field, _, _ in string_module.Formatter().parse(value) if field}
        except ValueError as exc:
            raise ConfigError(f"{value!r}: {exc}; write '{{{{' for a literal brace") from None
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value))
    return set()


def _service_name(name: str, services: set[str], key: str) -> str:
    if name not in services:
        raise ConfigError(
            f"{key}: unknown service {name!r}{did_you_mean(name, services)}; "
            f"services: {sorted(services)}"
        )
    return name
