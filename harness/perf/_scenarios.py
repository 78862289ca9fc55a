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
from typing import Any, Literal

from harness.config import (
    HarnessConfig,
    did_you_mean,
    names,
    positive_number,
    read_toml,
    reject_unknown,
    string,
)
from harness.exceptions import ConfigError

Model = Literal["closed", "open"]
BUILTIN_VARIABLES = frozenset({"n", "user", "run"})
CALIBRATION = "calibration"

_SCENARIO_KEYS = {
    "model",
    "users",
    "think_time",
    "rate",
    "ramp_up",
    "warmup",
    "sustain",
    "ramp_down",
    "max_requests",
    "windows",
    "timeout",
    "setup",
    "requests",
    "subscribe",
    "lag",
    "watch",
}
_STEP_KEYS = {"service", "method", "path", "json", "expect", "capture"}
_REQUEST_KEYS = _STEP_KEYS | {"name", "weight"}
_CALIBRATION_KEYS = {"service", "path", "sustain", "windows"}
_RAMP_KEYS = {"scenario", "levels", "step"}
_SUBSCRIBE_KEYS = {"service", "path", "subscribers", "name"}
_LAG_KEYS = {"service", "path", "from", "to", "name"}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}


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


def load_plan(config: HarnessConfig, path: Path | None = None) -> PerfPlan:
    """Read and validate the scenarios file (default `<perf dir>/scenarios.toml`)."""
    path = path or config.perf.scenarios
    data = read_toml(path)
    reject_unknown(data, {"calibration", "scenarios", "stress"}, str(path))
    services = set(config.services)
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, dict) or not scenarios:
        raise ConfigError(f"{path}: no [scenarios.<name>] table; declare at least one scenario")
    redis_servers = {name for name, server in config.servers.items() if server.is_redis}
    parsed = {
        name: _scenario(
            name, raw, services, f"{path}: scenarios.{name}", config.members, redis_servers
        )
        for name, raw in scenarios.items()
    }
    return PerfPlan(
        calibration=_calibration(data.get("calibration", {}), services, config, str(path)),
        scenarios=parsed,
        ramps=load_ramps(data.get("stress"), parsed, str(path)),
    )


def load_ramps(raw: Any, scenarios: dict[str, Scenario], where: str) -> dict[str, Ramp]:
    """The `[stress.<name>]` tables of the scenarios file."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: stress must be a table of [stress.<name>] tables")
    ramps = {}
    for name, table in raw.items():
        key = f"{where}: stress.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{key}: must be a table")
        reject_unknown(table, _RAMP_KEYS, key)
        scenario = table.get("scenario")
        if scenario not in scenarios:
            raise ConfigError(
                f"{key}.scenario: no scenario {scenario!r}{did_you_mean(str(scenario), scenarios)}"
                f"; scenarios: {sorted(scenarios)}"
            )
        levels = table.get("levels")
        if (
            not isinstance(levels, list)
            or len(levels) < 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in levels
            )
            or levels != sorted(levels)
        ):
            raise ConfigError(
                f"{key}.levels: at least two rising positive numbers, e.g. [60, 120, 240]"
            )
        if scenarios[scenario].model == "closed" and not all(float(v).is_integer() for v in levels):
            raise ConfigError(f"{key}.levels: a closed scenario's levels are numbers of users")
        ramps[name] = Ramp(
            name,
            scenario,
            tuple(float(v) for v in levels),
            positive_number(table, "step", key, 3.0),
        )
    return ramps


def _calibration(raw: Any, services: set[str], config: HarnessConfig, where: str) -> Scenario:
    """A closed single-user loop on a trivial endpoint (default: the first service's health)."""
    key = f"{where}: calibration"
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _CALIBRATION_KEYS, key)
    first = next(iter(config.services.values()))
    service = _service_name(raw.get("service", first.name), services, f"{key}.service")
    path = string(raw, "path", key, config.services[service].health)
    return Scenario(
        name=CALIBRATION,
        model="closed",
        users=1,
        requests=(WeightedRequest(CALIBRATION, 1.0, Step(service, "GET", path)),),
        phases=Phases(warmup=0.3, sustain=positive_number(raw, "sustain", key, 1.5)),
        windows=_count(raw, "windows", key, 5),
    )


def _scenario(
    name: str, raw: Any, services: set[str], key: str, members: set[str], redis_servers: set[str]
) -> Scenario:
    """One [scenarios.<name>] table; `members`: what it may watch, `redis_servers`: which of
    those give a command-time figure."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _SCENARIO_KEYS, key)
    model = raw.get("model", "closed")
    if model not in ("closed", "open"):
        raise ConfigError(f"{key}.model: must be 'closed' or 'open', got {model!r}")
    rate = raw.get("rate")
    if model == "open" and rate is None:
        raise ConfigError(f"{key}.rate: an open-model scenario needs a rate (requests per second)")
    if model == "open":
        rate = positive_number(raw, "rate", key, 0, unit="requests per second")
    elif rate is not None:
        raise ConfigError(f"{key}.rate: only an open-model scenario has a rate; set model = 'open'")
    if model == "open" and "think_time" in raw:
        raise ConfigError(f"{key}.think_time: an open-model scenario's arrivals follow its rate")
    setup = tuple(
        _step(item, services, f"{key}.setup[{i}]", _STEP_KEYS)
        for i, item in enumerate(_list(raw, "setup", key))
    )
    requests = tuple(
        _request(item, services, f"{key}.requests[{i}]")
        for i, item in enumerate(_list(raw, "requests", key))
    )
    if not requests:
        raise ConfigError(f"{key}.requests: declare at least one [[…requests]] entry")
    names = [request.name for request in requests]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}.requests: two requests share a name; names key the budgets")
    _check_placeholders(setup, requests, key)
    subscribe = None
    if "subscribe" in raw:
        subscribe = _subscribe(raw["subscribe"], name, services, setup, f"{key}.subscribe")
        if set(subscribe.figure_names) & set(names):
            raise ConfigError(f"{key}.subscribe.name: {subscribe.name!r} names a request too")
    lag = None
    if "lag" in raw:
        lag = _lag(raw["lag"], services, setup, f"{key}.lag")
        if lag.name in names or (subscribe and lag.name in subscribe.figure_names):
            raise ConfigError(f"{key}.lag.name: {lag.name!r} names another figure too")
    max_requests = raw.get("max_requests")
    watch = _watch(raw, members, key)
    return Scenario(
        name=name,
        model=model,
        users=_count(raw, "users", key, 10),
        rate=rate,
        think_time=_seconds(raw, "think_time", key, 0.0),
        requests=requests,
        setup=setup,
        phases=Phases(
            ramp_up=_seconds(raw, "ramp_up", key, Phases.ramp_up),
            warmup=_seconds(raw, "warmup", key, Phases.warmup),
            sustain=positive_number(raw, "sustain", key, Phases.sustain),
            ramp_down=_seconds(raw, "ramp_down", key, Phases.ramp_down),
        ),
        max_requests=None if max_requests is None else _count(raw, "max_requests", key, 1),
        windows=_count(raw, "windows", key, 10),
        timeout=positive_number(raw, "timeout", key, 10.0),
        subscribe=subscribe,
        lag=lag,
        watch=watch,
        redis=tuple(member for member in watch if member in redis_servers),
    )


def _watch(raw: dict[str, Any], members: set[str], key: str) -> tuple[str, ...]:
    """`watch = ["filings-worker", "redis"]`: services or servers of the stack."""
    watched = names(raw, "watch", key, "service or server names")
    for name in watched:
        if name not in members:
            raise ConfigError(
                f"{key}.watch: no service or server {name!r}{did_you_mean(name, members)}; "
                f"the stack's: {sorted(members)}"
            )
    return tuple(watched)


def _subscribe(
    raw: Any, scenario: str, services: set[str], setup: tuple[Step, ...], key: str
) -> Subscribe:
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table (service, path, subscribers)")
    reject_unknown(raw, _SUBSCRIBE_KEYS, key)
    return Subscribe(
        service=_service_name(raw.get("service"), services, f"{key}.service"),
        path=_user_path(raw, setup, key, "the stream's path"),
        subscribers=_count(raw, "subscribers", key, 1),
        name=string(raw, "name", key, scenario),
    )


def _lag(raw: Any, services: set[str], setup: tuple[Step, ...], key: str) -> Lag:
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table (service, path, from, to, name)")
    reject_unknown(raw, _LAG_KEYS, key)
    fields = {}
    for field_name in ("from", "to", "name"):
        fields[field_name] = string(raw, field_name, key, "")
        if not fields[field_name].strip():
            raise ConfigError(
                f"{key}.{field_name}: required, e.g. from = 'received_at', to = 'applied_at', "
                "name = 'accepted to applied'"
            )
    return Lag(
        service=_service_name(raw.get("service"), services, f"{key}.service"),
        path=_user_path(raw, setup, key, "the listing's path"),
        start=fields["from"],
        end=fields["to"],
        name=fields["name"],
    )


def _user_path(raw: dict[str, Any], setup: tuple[Step, ...], key: str, what: str) -> str:
    """A path read per user: starting with '/', its placeholders filled by the setup."""
    path = string(raw, "path", key, "")
    if not path.startswith("/"):
        raise ConfigError(f"{key}.path: {what}, starting with '/', got {path!r}")
    _check_known(
        path, BUILTIN_VARIABLES | {n for step in setup for n in step.capture}, f"{key}.path"
    )
    return path


def _request(raw: Any, services: set[str], key: str) -> WeightedRequest:
    step = _step(raw, services, key, _REQUEST_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{key}.name: give the request a name, e.g. 'case creation'")
    return WeightedRequest(
        name=name, weight=positive_number(raw, "weight", key, 1.0, unit="shares"), step=step
    )


def _step(raw: Any, services: set[str], key: str, allowed: set[str]) -> Step:
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, allowed, key)
    method = string(raw, "method", key, "GET").upper()
    if method not in _METHODS:
        raise ConfigError(f"{key}.method: must be one of {sorted(_METHODS)}, got {method!r}")
    path = string(raw, "path", key, "")
    if not path.startswith("/"):
        raise ConfigError(f"{key}.path: must start with '/', got {path!r}")
    expect = raw.get("expect", 200)
    if isinstance(expect, bool) or not isinstance(expect, int) or not 100 <= expect <= 599:
        raise ConfigError(f"{key}.expect: must be an HTTP status, got {expect!r}")
    capture = raw.get("capture", {})
    if not isinstance(capture, dict) or not all(isinstance(v, str) for v in capture.values()):
        raise ConfigError(f"{key}.capture: must be a table of variable = 'response field'")
    if BUILTIN_VARIABLES & capture.keys():
        raise ConfigError(f"{key}.capture: {sorted(BUILTIN_VARIABLES)} are set by harness")
    return Step(
        service=_service_name(raw.get("service"), services, f"{key}.service"),
        method=method,
        path=path,
        json=raw.get("json"),
        expect=expect,
        capture=dict(capture),
    )


def _check_placeholders(
    setup: tuple[Step, ...], requests: tuple[WeightedRequest, ...], key: str
) -> None:
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


def _service_name(name: Any, services: set[str], key: str) -> str:
    if name not in services:
        raise ConfigError(
            f"{key}: unknown service {name!r}{did_you_mean(str(name), services)}; "
            f"services: {sorted(services)}"
        )
    return str(name)


def _list(raw: dict[str, Any], name: str, key: str) -> list[Any]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        raise ConfigError(f"{key}.{name}: must be an array of tables ([[{key}.{name}]])")
    return value


def _count(raw: dict[str, Any], name: str, key: str, default: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}.{name}: must be a whole number of at least 1, got {value!r}")
    return value


def _seconds(raw: dict[str, Any], name: str, key: str, default: float) -> float:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}.{name}: must be a number of seconds, 0 or more, got {value!r}")
    return float(value)
