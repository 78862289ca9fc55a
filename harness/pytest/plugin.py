"""pytest plugin (entry point `pytest11: harness`): the live stack as fixtures.

`harness_stack` attaches to the run named by `--harness-run` / `$HARNESS_RUN` when it is
up (as in the Nox sessions, after `invoke services.up`); otherwise it brings a stack up
itself on free ports and takes it down at the end of the session.

For services with a checked-in contract, every response a `service_clients` client gets is
validated against it (`harness.contracts`); a test asking for `contract_service` runs once
per such service. `service_streams` subscribes to a service's WebSocket streams, every
message checked against its stream (AsyncAPI) contract.

`at_once("exhibits", [Call(...)] * 20)` sends requests at the same moment (races show) and
checks each answer against the contract too.

For tests of faults and of code run in-process: `fault_proxy` puts a fault-injecting proxy
in front of a service, `service_instance` starts one more process of a service rewired
(say, to that proxy), `server_instance` a server of the test's own to kill and restart
(both in `harness.pytest.instances`), and `fresh_database` gives a test a migrated database
of its own.
The auxiliary servers' fixtures (`server_urls`, `redis`) are in `harness.pytest.servers`,
the third-party stubs' (`stubs`) in `harness.pytest.stubs`; a test during which the stack
tried to reach beyond the machine fails by `harness.pytest.outbound`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from harness.config import BACKENDS, HarnessConfig, load_config
from harness.contracts import (
    ContractValidator,
    StreamValidator,
    base_revision,
    load_contract,
    with_framework_statuses,
)
from harness.db import DatabaseTemplate, scratch_for
from harness.exceptions import ContractError, HarnessError, RunStateError
from harness.infra import DatabaseRecord, RunState
from harness.pytest.suites import SUITES, SUITES_DIR, suite_files
from harness.settings import CONTRACTS_BASE_VARIABLE, DB_VARIABLE, RUN_VARIABLE
from harness.stack import Stack, Teardown, private_run
from harness.testing import Call, FaultProxy, ServiceStreams, send_at_once

CLIENT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

pytest_plugins = [
    "harness.pytest.migrations",
    "harness.pytest.perf",
    "harness.pytest.masking",
    "harness.pytest.servers",
    "harness.pytest.instances",
    "harness.pytest.stubs",
    "harness.pytest.outbound",
]


@dataclass
class RunningStack:
    """The stack the tests run against."""

    run_id: str
    backend: str
    database_url: str
    urls: dict[str, str]
    database: DatabaseRecord | None = None
    server_urls: dict[str, str] = field(default_factory=dict)  # its auxiliary servers'

    @classmethod
    def from_state(cls, state: RunState) -> RunningStack:
        return cls(
            run_id=state.run_id,
            backend=state.backend,
            database_url=state.database.display_url if state.database else "",
            urls={name: record.url for name, record in state.services.items()},
            database=state.database,
            server_urls={name: record.url for name, record in state.servers.items()},
        )


class ServiceClients:
    """One httpx.Client per service, made on first use: `service_clients["records"]`.

    A service with a validator gets its responses checked against its contract.
    """

    def __init__(self, urls: dict[str, str], validators: dict[str, ContractValidator]) -> None:
        self._urls = urls
        self._validators = validators
        self._clients: dict[str, httpx.Client] = {}

    def __getitem__(self, name: str) -> httpx.Client:
        if name not in self._urls:
            raise KeyError(f"no service {name!r} in the stack; services: {sorted(self._urls)}")
        if name not in self._clients:
            validator = self._validators.get(name)
            self._clients[name] = httpx.Client(
                base_url=self._urls[name],
                timeout=CLIENT_TIMEOUT,
                trust_env=False,
                event_hooks={"response": [validator.hook()] if validator else []},
            )
        return self._clients[name]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: the live service stack")
    group.addoption(
        "--harness-run",
        default=os.environ.get(RUN_VARIABLE),
        help=f"run id of a stack already up (default: ${RUN_VARIABLE})",
    )
    group.addoption(
        "--harness-db",
        default=os.environ.get(DB_VARIABLE),
        choices=BACKENDS,
        help=f"back end when harness starts the stack (${DB_VARIABLE}; default: the first "
        "of [tool.harness] backends)",
    )
    group.addoption(
        "--harness-suite",
        action="append",
        default=[],
        choices=sorted(SUITES),
        help="also run a suite harness ships (repeatable): contracts (drift, breaking-change "
        "and generated tests of every contract), migrations (every history's checks), perf "
        "(the scenarios' budgets and baseline); with no test path given, only the suites run",
    )
    group.addoption(
        "--harness-config",
        default=None,
        help="pyproject.toml with [tool.harness] (default: the one at rootdir)",
    )
    group.addoption(
        "--contracts-base",
        default=os.environ.get(CONTRACTS_BASE_VARIABLE),
        metavar="REV",
        help="git revision whose contracts breaking changes are judged against "
        f"(${CONTRACTS_BASE_VARIABLE}; default: the merge base with "
        "[tool.harness.contracts] base_branch)",
    )


_CONFIG_KEY = pytest.StashKey[HarnessConfig]()
_collecting: list[pytest.Config] = []


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Add the asked-for shipped suites to what this session collects."""
    _collecting[:] = [config]
    suites = [path for name in config.option.harness_suite for path in suite_files(name)]
    if not suites:
        return
    given = config.args_source == pytest.Config.ArgsSource.ARGS
    config.args = [*(config.args if given else []), *(p for p in suites if p not in config.args)]


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    """A shipped suite's tests keep one id wherever harness is installed:
    `harness/suites/contracts.py::test_drift[records]`."""
    if module_path.parent != SUITES_DIR:
        return None
    nodeid = f"harness/suites/{module_path.name}"
    return pytest.Module.from_parent(parent, path=module_path, nodeid=nodeid)


def collecting_config() -> HarnessConfig:
    """`[tool.harness]` of the pytest session collecting now (for the shipped suites, whose
    tests are made at import from the config)."""
    if not _collecting:
        raise RuntimeError("harness's suites are collected by pytest with the harness plugin")
    return harness_config_of(_collecting[0])


def chosen_backend(pytest_config: pytest.Config, harness_config: HarnessConfig) -> str:
    """The back end a stack this session brings up runs on: --harness-db / $HARNESS_DB,
    else the first of `backends`."""
    return pytest_config.option.harness_db or harness_config.backends[0]


def harness_config_of(pytest_config: pytest.Config) -> HarnessConfig:
    """`[tool.harness]`, read once per session (collection and fixtures share it)."""
    if _CONFIG_KEY not in pytest_config.stash:
        path = pytest_config.option.harness_config or pytest_config.rootpath / "pyproject.toml"
        pytest_config.stash[_CONFIG_KEY] = load_config(path)
        pytest_config.stash[_CONFIG_KEY].make_importable()
    return pytest_config.stash[_CONFIG_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for `contract_service` runs once per service with `openapi` set."""
    if "contract_service" in metafunc.fixturenames:
        names = [service.name for service in harness_config_of(metafunc.config).under_contract()]
        metafunc.parametrize("contract_service", names, ids=names)


@pytest.fixture(scope="session")
def harness_config(request: pytest.FixtureRequest) -> HarnessConfig:
    """`[tool.harness]` of the project under test."""
    return harness_config_of(request.config)


@pytest.fixture(scope="session")
def contracts_base(request: pytest.FixtureRequest, harness_config: HarnessConfig) -> str:
    """The git revision breaking changes are judged against, resolved once per session."""
    return base_revision(harness_config, request.config.option.contracts_base)


@pytest.fixture(scope="session")
def contract_validators(
    harness_config: HarnessConfig, record_testsuite_property: Callable[[str, object], None]
) -> Iterator[dict[str, ContractValidator]]:
    """A validator per service whose checked-in contract exists; counts go to the JUnit suite."""
    validators = {}
    for service in harness_config.under_contract():
        try:
            document = load_contract(harness_config.contract_path(service.name))
        except ContractError:
            continue  # the drift gate reports the missing contract
        document = with_framework_statuses(document, service.framework_statuses)
        validators[service.name] = ContractValidator(document, service.name)
    yield validators
    for name, validator in validators.items():
        record_testsuite_property(f"harness.conformance.{name}", validator.checked)


@pytest.fixture(scope="session")
def stream_validators(
    harness_config: HarnessConfig, record_testsuite_property: Callable[[str, object], None]
) -> Iterator[dict[str, StreamValidator]]:
    """A validator per service whose checked-in stream contract exists; the number of
    messages each checked goes to the JUnit suite."""
    validators = {}
    for service in harness_config.under_stream_contract():
        try:
            document = load_contract(harness_config.stream_contract_path(service.name))
        except ContractError:
            continue  # the stream drift gate reports the missing contract
        validators[service.name] = StreamValidator(document, service.name)
    yield validators
    for name, validator in validators.items():
        record_testsuite_property(f"harness.stream_conformance.{name}", validator.checked)


@pytest.fixture(scope="session")
def harness_stack(
    request: pytest.FixtureRequest,
    harness_config: HarnessConfig,
    record_testsuite_property: Callable[[str, object], None],
) -> Iterator[RunningStack]:
    """The running stack: attached to `--harness-run`, or brought up for this session."""
    options = request.config.option
    state = attached_run(harness_config, options.harness_run)
    if state is not None:
        yield _recorded(RunningStack.from_state(state), record_testsuite_property)
        return
    try:
        with private_run(
            harness_config,
            options.harness_run or f"pytest-{os.getpid()}",
            chosen_backend(request.config, harness_config),
            fail_teardown,
            auto_ports=True,
        ) as state:
            yield _recorded(RunningStack.from_state(state), record_testsuite_property)
    except HarnessError as exc:  # one line, not a traceback whose arguments hold the URL
        raise pytest.fail.Exception(f"harness: {exc}", pytrace=False) from None


def fail_teardown(report: Teardown) -> None:
    """A private run's teardown that owes something fails the session."""
    pytest.fail("harness teardown: " + "; ".join(report.problems), pytrace=False)


def attached_run(config: HarnessConfig, run_id: str | None) -> RunState | None:
    """The state of run `run_id` if it is up, else None (the session brings its own up)."""
    if not run_id:
        return None
    stack = Stack(config, run_id)
    if not stack.run.exists():
        return None
    state = stack.run.load()
    return state if not state.is_stale() and state.phase == "up" else None


def _recorded(
    stack: RunningStack, record_testsuite_property: Callable[[str, object], None]
) -> RunningStack:
    record_testsuite_property("harness.backend", stack.backend)
    record_testsuite_property("harness.run_id", stack.run_id)
    return stack


@pytest.fixture(scope="session")
def harness_backend(harness_stack: RunningStack) -> str:
    """'sqlite' or 'postgres': the back end the stack runs on."""
    return harness_stack.backend


@pytest.fixture(scope="session")
def service_urls(harness_stack: RunningStack) -> dict[str, str]:
    """Base URL of every service, by name."""
    return harness_stack.urls


@pytest.fixture(scope="session")
def service_clients(
    harness_stack: RunningStack, contract_validators: dict[str, ContractValidator]
) -> Iterator[ServiceClients]:
    """An httpx.Client per service, by name, with its base URL set and its contract checked."""
    clients = ServiceClients(harness_stack.urls, contract_validators)
    yield clients
    clients.close()


@pytest.fixture
def service_streams(
    harness_stack: RunningStack, stream_validators: dict[str, StreamValidator]
) -> Iterator[ServiceStreams]:
    """`service_streams.subscribe("records", "/cases/7/events", {"after": 3})`: a WebSocket
    connection whose received messages are checked against the service's stream contract
    (`harness.testing.Subscription`); every connection is closed after the test."""
    streams = ServiceStreams(harness_stack.urls, stream_validators)
    yield streams
    streams.close()


@pytest.fixture
def at_once(
    service_urls: dict[str, str], contract_validators: dict[str, ContractValidator]
) -> Callable[[str, list[Call]], list[httpx.Response]]:
    """`at_once("exhibits", [Call("POST", "/exhibits", json=…)] * 20)`: the calls sent to that
    service at the same moment (`harness.testing`), their responses in order, each checked
    against the service's contract."""

    def send(service: str, calls: list[Call]) -> list[httpx.Response]:
        if service not in service_urls:
            raise KeyError(f"no service {service!r} in the stack; services: {sorted(service_urls)}")
        validator = contract_validators.get(service)
        hooks = [validator.hook()] if validator else []
        return send_at_once(service_urls[service], calls, response_hooks=hooks)

    return send


@pytest.fixture
def unique() -> Callable[[str], str]:
    """`unique("template")` -> 'template-3f2a…': data no other test, worker or run collides with."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def fault_proxy(service_urls: dict[str, str]) -> Iterator[Callable[[str], FaultProxy]]:
    """`fault_proxy("records")`: a started `harness.testing._faults.FaultProxy` in front of that
    service; stopped after the test."""
    proxies: list[FaultProxy] = []

    def start(service: str) -> FaultProxy:
        if service not in service_urls:
            raise KeyError(f"no service {service!r} in the stack; services: {sorted(service_urls)}")
        proxies.append(FaultProxy(service_urls[service]).start())
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture(scope="session")
def database_template(
    harness_config: HarnessConfig,
    harness_stack: RunningStack,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DatabaseTemplate]:
    """The run's schema, migrated once per session (and xdist worker), to clone from."""
    if harness_stack.database is None:
        raise RunStateError(f"run {harness_stack.run_id!r} has no database to clone")
    scratch = scratch_for(
        harness_config,
        harness_stack.database,
        os.environ.get("PYTEST_XDIST_WORKER", "m"),
        Path(tmp_path_factory.mktemp("databases")),
    )
    template = DatabaseTemplate(harness_config, scratch)
    yield template
    template.close()


@pytest.fixture
def fresh_database(database_template: DatabaseTemplate) -> Iterator[str]:
    """The URL of a migrated database for this test alone, dropped after it."""
    url = database_template.clone()
    yield url
    database_template.drop(url)
