"""The load generator against real servers: the instrument's accuracy, the open model's
correction for coordinated omission, phases, bounds, errors and captured variables."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from harness.config._project import HarnessConfig
from harness.infra._state import RunState
from harness.perf import _latency as latency
from harness.perf._load_runner import LoadRunner, SetupError, fill
from harness.perf._loaded_calibration import LoadedCalibration
from harness.perf._scenarios import Phases, Scenario, Step, WeightedRequest
from harness.stack._stack import Stack
from tests.conftest import delay_command


@pytest.fixture
def delay_service(make_config: Callable[..., HarnessConfig]) -> Iterator[Callable[..., RunState]]:
    """`delay_service(50)`: a running delay server (as a harness run); stopped at the end."""
    stacks: list[Stack] = []

    def start(delay_ms: float, *extra: str) -> RunState:
        config = make_config({"slow": {"command": delay_command(delay_ms, *extra), "health": "/"}})
        stack = Stack(config, f"delay-{len(stacks)}")
        stacks.append(stack)
        return stack.up("sqlite", auto_ports=True, detach=True)

    yield start
    for stack in stacks:
        stack.down()


def scenario(**fields) -> Scenario:
    defaults = {
        "name": "probe",
        "model": "closed",
        "users": 1,
        "requests": (WeightedRequest("probe", 1.0, Step("slow", "GET", "/probe")),),
        "phases": Phases(warmup=0.3, sustain=2.0),
    }
    return Scenario(**{**defaults, **fields})


def urls(state: RunState) -> dict[str, str]:
    return {name: record.url for name, record in state.services.items()}


def p(result, percentile: str, request: str = "probe") -> float:
    return latency.percentile_ms(result.requests[request].histogram, percentile)


def test_a_fixed_50_ms_delay_is_never_reported_faster_nor_beyond_the_clock(delay_service):
    # Bounds that hold on any machine: a server answering after 50 ms cannot be measured
    # faster, and 10 closed-loop users cannot spend more time waiting than the run lasted.
    # How close p50 comes to 50 ms is a figure of benchmarks/perf_runner.py, not a test.
    state = delay_service(50)

    result = LoadRunner(scenario(users=10, phases=Phases(warmup=0.5, sustain=3)), urls(state)).run()

    histogram = result.requests["probe"].histogram
    count = result.requests["probe"].count
    print(f"p50 {p(result, 'p50'):.2f} ms, generator CPU {result.runner_cpu_percent:.1f}%")
    assert 0 < count <= 10 * 3 / 0.05 + 10
    assert p(result, "p50") >= 50 and histogram.get_min_value() >= 50_000
    waited = histogram.get_mean_value() / 1e6 * count
    assert waited <= 10 * (result.measured_seconds + histogram.get_max_value() / 1e6)
    assert result.requests["probe"].errors == 0
    assert result.requests["probe"].mean_response_bytes == len(b"ok")


def test_open_model_shows_the_queue_behind_a_stall_that_a_closed_loop_hides(delay_service):
    state = delay_service(1, "--stall-every", "1", "--stall-ms", "200")
    phases = Phases(warmup=0.5, sustain=4)

    closed = LoadRunner(scenario(users=1, phases=phases), urls(state)).run()
    opened = LoadRunner(scenario(model="open", rate=200, users=2, phases=phases), urls(state)).run()

    # on a schedule, every arrival during a stall queues: 20% of them wait up to 200 ms,
    # which a closed loop, waiting each stall out with one request, mostly does not see
    assert p(opened, "p95") > 100
    assert p(opened, "p95") > p(closed, "p95")
    # the generator says so when it falls behind the rate
    assert opened.issued_rate is not None
    behind = any("issued" in reason for reason in opened.invalid_reasons)
    assert behind == (opened.issued_rate < 0.95 * 200)


def test_phases_ramp_users_and_only_the_sustain_is_measured(delay_service):
    state = delay_service(20)
    phases = Phases(ramp_up=1.0, warmup=0.5, sustain=1.0, ramp_down=1.0)

    result = LoadRunner(scenario(users=4, phases=phases), urls(state)).run()

    # 4 users at 20 ms each send at most 200 requests a second while measured
    assert 0 < result.requests["probe"].count <= 4 * 1.0 / 0.02 + 4
    assert result.measured_seconds == pytest.approx(1.0)


def test_max_requests_ends_the_measurement_early(delay_service):
    state = delay_service(5)

    result = LoadRunner(
        scenario(users=4, max_requests=100, phases=Phases(warmup=0.2, sustain=30)), urls(state)
    ).run()

    # the 100th answer ends it; what the other 3 users had in flight still counts
    assert 100 <= result.requests["probe"].count < 104
    assert result.measured_seconds < 30


def test_an_open_model_run_beyond_the_generator_is_invalid(delay_service):
    state = delay_service(1)
    # 100,000 arrivals a second is beyond one Python loop: it issues about 30,000 here.
    # (20,000 was not: this machine sends that many to a 1 ms service at 80% of a core.)
    heavy = scenario(model="open", rate=100_000, users=50, phases=Phases(warmup=0.1, sustain=0.5))

    result = LoadRunner(heavy, urls(state)).run()

    assert result.invalid_reasons
    assert all(reason.startswith("the load generator") for reason in result.invalid_reasons)


def test_refused_connections_and_unexpected_statuses_are_errors_with_examples(delay_service):
    state = delay_service(1)
    requests = (
        WeightedRequest("refused", 1.0, Step("gone", "GET", "/")),
        WeightedRequest("wrong status", 1.0, Step("slow", "POST", "/", json={}, expect=201)),
    )
    endpoints = {**urls(state), "gone": "http://127.0.0.1:9"}

    result = LoadRunner(
        scenario(requests=requests, phases=Phases(warmup=0, sustain=0.5)), endpoints
    ).run()

    refused, wrong = result.requests["refused"], result.requests["wrong status"]
    assert refused.count == 0 and refused.errors > 0 and refused.error_rate == 1.0
    assert "cannot connect to 127.0.0.1:9" in refused.error_examples[0]
    assert wrong.count == 0 and wrong.errors > 0
    assert "200, expected 201" in wrong.error_examples[0]


class VersionedStore(BaseHTTPRequestHandler):
    """POST /items -> 201 {id, version: 1}; PUT /items/<id> {version} -> 200 {version + 1},
    or 409 when the version is stale: a save only works with the captured version."""

    items: ClassVar[dict[int, int]] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        item = len(self.items) + 1
        self.items[item] = 1
        self._answer(201, {"id": item, "version": 1})

    def do_PUT(self) -> None:
        item = int(self.path.rsplit("/", 1)[1])
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["version"] != self.items[item]:
            self._answer(409, {"detail": "stale"})
            return
        self.items[item] += 1
        self._answer(200, {"id": item, "version": self.items[item]})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def versioned_store() -> Iterator[tuple[str, dict[int, int]]]:
    VersionedStore.protocol_version = "HTTP/1.1"
    VersionedStore.items = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), VersionedStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", VersionedStore.items
    server.shutdown()
    server.server_close()


def test_each_user_saves_its_own_item_with_the_version_it_captured(versioned_store):
    url, items = versioned_store
    saving = scenario(
        users=3,
        setup=(
            Step(
                "store",
                "POST",
                "/items",
                json={},
                expect=201,
                capture={"item": "id", "version": "version"},
            ),
        ),
        requests=(
            WeightedRequest(
                "save",
                1.0,
                Step(
                    "store",
                    "PUT",
                    "/items/{item}",
                    json={"version": "{version}"},
                    capture={"version": "version"},
                ),
            ),
        ),
        phases=Phases(warmup=0.1, sustain=60),
        max_requests=30,
    )

    result = LoadRunner(saving, {"store": url}).run()

    assert result.requests["save"].errors == 0
    assert result.requests["save"].count >= 30
    assert sorted(items) == [1, 2, 3]
    assert all(version > 2 for version in items.values())


def test_a_failing_setup_step_names_the_step_and_the_user(versioned_store):
    url, _ = versioned_store
    broken = scenario(
        setup=(Step("store", "POST", "/items", json={}, expect=200),),
        requests=(WeightedRequest("save", 1.0, Step("store", "GET", "/")),),
    )

    with pytest.raises(SetupError, match=r"setup POST /items for user 0: .*201, expected 200"):
        LoadRunner(broken, {"store": url}).run()


def test_fill_keeps_the_type_of_a_lone_placeholder_and_formats_the_rest():
    variables = {"n": 7, "version": 3, "run": "ab12"}

    filled = fill({"version": "{version}", "name": "T-{run}-{n}", "list": ["{n}", 1]}, variables)

    assert filled == {"version": 3, "name": "T-ab12-7", "list": [7, 1]}


def answered(probe: LoadedCalibration, count: int) -> None:
    """Wait until `probe` has `count` good answers (a minute at most: a hang, not a pace)."""
    deadline = time.monotonic() + 60
    while len(probe.samples) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_calibration_under_load_times_the_answers_sent_inside_the_span(delay_service):
    url = urls(delay_service(20))["slow"]
    with LoadedCalibration(url, Step("slow", "GET", "/probe"), interval=0.005) as probe:
        answered(probe, 3)
        middle = time.perf_counter()
        answered(probe, len(probe.samples) + 3)
    end = time.perf_counter()

    first, second = probe.p50_ms(0, middle), probe.p50_ms(middle, end)
    assert first is not None and first >= 20
    assert second is not None and second >= 20
    assert probe.p50_ms(end, end + 60) is None  # nothing was sent after it left


def test_answers_without_the_expected_status_are_not_timed(delay_service):
    url = urls(delay_service(0))["slow"]
    step = Step("slow", "POST", "/cases", json={"n": 1})  # the delay server answers 200
    with LoadedCalibration(url, step, interval=0.005) as reached:
        answered(reached, 1)
    with LoadedCalibration(url, replace(step, expect=201), interval=0.005) as probe:
        time.sleep(0.2)

    assert reached.samples
    assert probe.samples == [] and probe.p50_ms(0, time.perf_counter()) is None
