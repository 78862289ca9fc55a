"""The load generator: one event loop (uvloop's) sending a scenario's requests (`LoadClient`).

Latencies go into one HDR histogram per request and measurement window. In the open
model they count from the *scheduled* send, so a stalled server cannot hide its queue
(coordinated omission); how late the generator itself issued each arrival is recorded
apart, and a run that issued under 95% of its rate, or whose loop used over 80% of a
core, is marked invalid: then the generator, not the service, set the figures. A scenario
that subscribes to a stream holds its subscribers in the same loop (`StreamWatch`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import uvloop
from hdrh.histogram import HdrHistogram

from harness.exceptions import HarnessError
from harness.perf import _latency as latency
from harness.perf._lag_watch import LagWatch
from harness.perf._load_client import LoadClient, LoadClientError
from harness.perf._scenarios import Scenario, Step, WeightedRequest
from harness.perf._stream_watch import StreamWatch

MAX_RUNNER_CPU = 80.0
MIN_RATE_SHARE = 0.95
ERROR_EXAMPLES = 3


def error_rate(successes: int, errors: int) -> float:
    """The share of attempts that failed (0 when there was none)."""
    attempts = successes + errors
    return errors / attempts if attempts else 0.0


@dataclass
class RequestFigures:
    """What one named request of a run measured: a histogram per window, the errors and
    the bytes of the successful answers' bodies."""

    windows: list[HdrHistogram]
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    response_bytes: int = 0

    @property
    def histogram(self) -> HdrHistogram:
        return latency.merged(self.windows)

    @property
    def count(self) -> int:
        return sum(window.get_total_count() for window in self.windows)

    @property
    def error_rate(self) -> float:
        return error_rate(self.count, self.errors)

    @property
    def mean_response_bytes(self) -> float:
        """The mean size of a successful answer's body (0 when there was none)."""
        return self.response_bytes / self.count if self.count else 0.0

    def record(self, window: int, seconds: float, error: str | None, size: int = 0) -> None:
        if error is None:
            latency.record_seconds(self.windows[window], seconds)
            self.response_bytes += size
            return
        self.errors += 1
        if len(self.error_examples) < ERROR_EXAMPLES:
            self.error_examples.append(error)


@dataclass
class LoadResult:
    """One scenario run: figures per request, the measured span, the generator's own state."""

    scenario: str
    model: str
    requests: dict[str, RequestFigures]
    measured_seconds: float
    measure_start: float
    runner_cpu_percent: float
    windows: int = 1
    served_at: dict[str, list[float]] = field(default_factory=dict)
    target_rate: float | None = None
    issued_rate: float | None = None
    issue_lag: HdrHistogram = field(default_factory=latency.new_histogram)
    streams: dict[str, RequestFigures] = field(default_factory=dict)  # not requests: no throughput

    @property
    def throughput(self) -> float:
        """Successful measured requests per second, all requests together."""
        total = sum(figures.count for figures in self.requests.values())
        return total / self.measured_seconds if self.measured_seconds else 0.0

    @property
    def window_bounds(self) -> list[float]:
        """The measured span's window boundaries, its start first and its end last."""
        step = self.measured_seconds / self.windows
        return [self.measure_start + k * step for k in range(self.windows + 1)]

    @property
    def invalid_reasons(self) -> list[str]:
        """Why the generator, not the service, may have set these figures (empty: valid)."""
        reasons = []
        if self.runner_cpu_percent > MAX_RUNNER_CPU:
            reasons.append(
                f"the load generator used {self.runner_cpu_percent:.0f}% of a core "
                f"(limit {MAX_RUNNER_CPU:.0f}%)"
            )
        if self.target_rate and (self.issued_rate or 0) < MIN_RATE_SHARE * self.target_rate:
            reasons.append(
                f"the load generator issued {self.issued_rate:.1f} req/s of the "
                f"{self.target_rate:.1f} asked"
            )
        return reasons


class SetupError(HarnessError):
    """A virtual user's setup step failed: the scenario cannot run as declared."""


@dataclass(frozen=True)
class Exchange:
    """One request's outcome: None or what went wrong, when it went out and finished, and
    the size of the answer's body."""

    error: str | None
    sent: float
    finished: float
    size: int = 0


def fill(value: Any, variables: dict[str, Any]) -> Any:
    """`value` with its `{name}` placeholders replaced; a lone placeholder keeps its type."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in variables:
            return variables[value[1:-1]]
        return value.format_map(variables)
    if isinstance(value, dict):
        return {key: fill(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, variables) for item in value]
    return value


class LoadRunner:
    """Runs one scenario against services at `urls` (name -> base URL)."""

    def __init__(self, scenario: Scenario, urls: dict[str, str], seed: int = 0) -> None:
        self.scenario = scenario
        self.urls = urls
        self._random = random.Random(seed)
        self._cumulative = list(itertools.accumulate(r.weight for r in scenario.requests))
        self._numbers = itertools.count(1)
        self._run_token = secrets.token_hex(4)
        self._figures = {request.name: self._new_figures() for request in scenario.requests}
        self._watch = (
            StreamWatch(scenario.subscribe, scenario.timeout) if scenario.subscribe else None
        )
        self._lag = LagWatch(scenario.lag, scenario.timeout) if scenario.lag else None
        stream = scenario.subscribe.figure_names if scenario.subscribe else ()
        self._streams = {  # the stream's and the lag's figures
            name: self._new_figures()
            for name in [*stream, *([self._lag.name] if self._lag else [])]
        }
        self._services = {request.name: request.step.service for request in scenario.requests}
        self._served: dict[str, list[float]] = {service: [] for service in scenario.services}
        self._measured = 0
        self._issue_lag = latency.new_histogram()
        self._issued_in_window = 0
        self._start = self.measure_start = self.measure_end = 0.0

    def _new_figures(self) -> RequestFigures:
        return RequestFigures([latency.new_histogram() for _ in range(self.scenario.windows)])

    def run(self) -> LoadResult:
        """Set every user up, then run the phases; blocks until the last answer. The loop is
        uvloop's: on a small machine the generator's CPU per request is CPU the services
        it measures do not get, and uvloop's loop spends less of it than asyncio's."""
        return uvloop.run(self._run())

    async def _run(self) -> LoadResult:
        self._client = LoadClient(self.scenario.users, self.scenario.timeout)
        try:
            users = [await self._set_up(user) for user in range(self.scenario.users)]
            for variables in users:
                if self._watch is not None:
                    await self._watch.open(variables["user"], self._stream_url(variables))
                if self._lag is not None:
                    lag = self._lag.lag
                    self._lag.follow(variables["user"], self._url(lag.service, lag.path, variables))
            phases = self.scenario.phases
            self._start = time.perf_counter()
            self.measure_start = self._start + phases.ramp_up + phases.warmup
            self.measure_end = self.measure_start + phases.sustain
            cpu_before = time.thread_time()
            if self.scenario.model == "closed":
                await asyncio.gather(*(self._closed_user(k, v) for k, v in enumerate(users)))
            else:
                await self._open_arrivals(users)
            wall = time.perf_counter() - self._start
            cpu = time.thread_time() - cpu_before
            if self._watch is not None:
                await self._watch.figures(self._window_of, self._streams)
            if self._lag is not None:
                figure = self._streams[self._lag.name]
                await self._lag.figures(self._client, self._window_of, figure)
        finally:
            await self._client.close()
            if self._watch is not None:
                await self._watch.close()
        measured = max(min(self.measure_end, time.perf_counter()) - self.measure_start, 0.0)
        rate = self.scenario.rate
        return LoadResult(
            scenario=self.scenario.name,
            model=self.scenario.model,
            requests=self._figures,
            measured_seconds=measured,
            measure_start=self.measure_start,
            runner_cpu_percent=100 * cpu / wall if wall else 0.0,
            target_rate=rate,
            issued_rate=self._issued_in_window / measured if rate and measured else None,
            issue_lag=self._issue_lag,
            windows=self.scenario.windows,
            served_at=self._served,
            streams=self._streams,
        )

    async def _set_up(self, user: int) -> dict[str, Any]:
        variables: dict[str, Any] = {"user": user, "run": self._run_token}
        for step in self.scenario.setup:
            error = (await self._send(step, variables)).error
            if error:
                raise SetupError(
                    f"scenario {self.scenario.name!r}, setup {step.method} {step.path} "
                    f"for user {user}: {error}"
                )
        return variables

    def _url(self, service: str, path: str, variables: dict[str, Any]) -> str:
        """`path` of `service`, its placeholders filled from `variables`."""
        return self.urls[service] + fill(path, variables)

    def _stream_url(self, variables: dict[str, Any]) -> str:
        subscribe = self.scenario.subscribe
        assert subscribe is not None
        return "ws" + self._url(subscribe.service, subscribe.path, variables).removeprefix("http")

    async def _closed_user(self, user: int, variables: dict[str, Any]) -> None:
        """Start at this user's point of the ramp-up; leave at its point of the ramp-down."""
        phases = self.scenario.phases
        users = self.scenario.users
        await _sleep_until(self._start + phases.ramp_up * user / users)
        while time.perf_counter() < self.measure_end + phases.ramp_down * (user + 1) / users:
            request = self._choose()
            exchange = await self._send(request.step, variables)
            self._published(variables, exchange)
            self._record(request.name, exchange.sent, exchange.finished - exchange.sent, exchange)
            if self.scenario.think_time:
                await asyncio.sleep(self.scenario.think_time)

    async def _open_arrivals(self, users: list[dict[str, Any]]) -> None:
        """Issue arrivals on the rate's schedule; each waits for a free user, then sends."""
        free: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for variables in users:
            free.put_nowait(variables)
        end = self.measure_end + self.scenario.phases.ramp_down
        pending: set[asyncio.Task[None]] = set()
        scheduled = self._start
        while scheduled < end:
            await _sleep_until(scheduled)
            issued = time.perf_counter()
            latency.record_seconds(self._issue_lag, issued - scheduled)
            if self.measure_start <= issued < self.measure_end:
                self._issued_in_window += 1
            task = asyncio.create_task(self._arrival(scheduled, free))
            pending.add(task)
            task.add_done_callback(pending.discard)
            scheduled += 1 / self._rate_at(scheduled)
        if pending:
            await asyncio.gather(*pending)

    async def _arrival(self, scheduled: float, free: asyncio.Queue[dict[str, Any]]) -> None:
        request = self._choose()
        variables = await free.get()
        try:
            exchange = await self._send(request.step, variables)
            self._published(variables, exchange)
        finally:
            free.put_nowait(variables)
        self._record(request.name, scheduled, exchange.finished - scheduled, exchange)

    def _rate_at(self, moment: float) -> float:
        """The arrival rate the phases ask for at `moment`, never under 2% of the full rate."""
        rate = self.scenario.rate or 1.0
        phases = self.scenario.phases
        share = 1.0
        if moment < self._start + phases.ramp_up:
            share = (moment - self._start) / phases.ramp_up
        elif moment >= self.measure_end and phases.ramp_down:
            share = 1 - (moment - self.measure_end) / phases.ramp_down
        return rate * max(share, 0.02)

    def _choose(self) -> WeightedRequest:
        return self._random.choices(self.scenario.requests, cum_weights=self._cumulative)[0]

    def _published(self, variables: dict[str, Any], exchange: Exchange) -> None:
        """A successful request published one message to its user's stream and made one
        item appear in its user's lag listing."""
        if exchange.error is not None:
            return
        if self._watch is not None:
            self._watch.published(variables["user"], exchange.sent)
        if self._lag is not None:
            self._lag.published(variables["user"])

    def _window_of(self, sent: float) -> int | None:
        """The measurement window of a request sent at `sent`; None outside the sustain."""
        if not self.measure_start <= sent < self.measure_end:
            return None
        window_length = self.scenario.phases.sustain / self.scenario.windows
        return min(int((sent - self.measure_start) / window_length), self.scenario.windows - 1)

    def _record(self, name: str, sent: float, seconds: float, exchange: Exchange) -> None:
        """Note when the service answered; keep the figure when it was sent while
        measuring; stop at `max_requests`."""
        self._served[self._services[name]].append(sent + seconds)
        window = self._window_of(sent)
        if window is None:
            return
        self._figures[name].record(window, seconds, exchange.error, exchange.size)
        self._measured += 1
        if self._measured == self.scenario.max_requests:
            self.measure_end = time.perf_counter()

    async def _send(self, step: Step, variables: dict[str, Any]) -> Exchange:
        """Send one step; its error is None when it got the expected status."""
        variables["n"] = next(self._numbers)
        url = self._url(step.service, step.path, variables)
        body = None if step.json is None else json.dumps(fill(step.json, variables)).encode()
        started = time.perf_counter()
        try:
            answer = await self._client.request(step.method, url, body)
        except LoadClientError as exc:
            return Exchange(f"{step.method} {url}: {exc}", started, time.perf_counter())
        error: str | None
        if answer.status != step.expect:
            text = answer.body[:200].decode("utf-8", "replace")
            error = f"{step.method} {url}: {answer.status}, expected {step.expect}: {text}"
        else:
            error = _capture(step, answer.body, variables, url)
        return Exchange(error, answer.sent, answer.received, len(answer.body))


def _capture(step: Step, body: bytes, variables: dict[str, Any], url: str) -> str | None:
    if not step.capture:
        return None
    try:
        document = json.loads(body)
        for variable, field_name in step.capture.items():
            variables[variable] = document[field_name]
    except (ValueError, KeyError, TypeError) as exc:
        return f"{step.method} {url}: cannot capture {step.capture} from the answer: {exc!r}"
    return None


async def _sleep_until(moment: float) -> None:
    """Sleep until `moment`; when already late, still yield once, so a generator behind
    schedule lets its requests go out rather than issuing every arrival first."""
    await asyncio.sleep(max(moment - time.perf_counter(), 0))
