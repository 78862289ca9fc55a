"""pytest plugin (loaded with `harness`): more processes of the stack's members, per test.

`service_instance("export", RECORDS_SERVICE_URL=proxy.url)` starts one more process of a
service, wired as the stack's but for the given variables. `server_instance("redis")` starts
an auxiliary server of the test's own (its own port, data directory and log), which the
test may kill and restart without disturbing the tests sharing the stack's server. Both
give a URL, kill as a crash would (`.kill(url)`: SIGKILL, no grace), and stop what the test
started after it, ports given back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

import pytest

from harness.config import HarnessConfig
from harness.exceptions import RunStateError
from harness.infra import ServiceRecord
from harness.stack import Stack

if TYPE_CHECKING:
    from harness.pytest.plugin import RunningStack


class _Instances:
    """The processes a test started, by URL."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._started: dict[str, ServiceRecord] = {}

    def _keep(self, record: ServiceRecord) -> str:
        self._started[record.url] = record
        return record.url

    def _record(self, url: str) -> ServiceRecord:
        if url not in self._started:
            raise KeyError(f"no instance at {url}; started: {sorted(self._started)}")
        return self._started[url]

    def kill(self, url: str) -> None:
        """Kill the instance at `url` as a crash would: SIGKILL to its process group."""
        self._stack.kill_instance(self._record(url))

    def stop_all(self) -> None:
        """Stop every instance, each whatever became of the others; one error for all."""
        problems = []
        for record in self._started.values():
            try:
                self._stack.stop_instance(record)
            except RunStateError as exc:
                problems.append(str(exc))
        if problems:
            raise RunStateError("; ".join(problems))


def _label(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


class ServiceInstances(_Instances):
    """`service_instance(service, **env)`: the URL of one more process of that service."""

    def __call__(self, service: str, **env: str) -> str:
        return self._keep(self._stack.start_instance(service, env, _label(service)))


class ServerInstances(_Instances):
    """`server_instance(server)`: the URL of a server of the test's own, ready;
    `.restart(url)` starts it again on the same port and data directory."""

    def __call__(self, server: str) -> str:
        return self._keep(self._stack.start_server_instance(server, _label(server)))

    def restart(self, url: str) -> None:
        """Stop it (SIGTERM, its grace) unless killed already, then start it again on its
        port and data directory, and wait until it is ready."""
        self._keep(self._stack.restart_server_instance(self._record(url)))


InstancesT = TypeVar("InstancesT", bound=_Instances)


def _for_the_test(
    kind: type[InstancesT], config: HarnessConfig, stack: RunningStack
) -> Iterator[InstancesT]:
    instances = kind(Stack(config, stack.run_id))
    yield instances
    instances.stop_all()


@pytest.fixture
def service_instance(
    harness_config: HarnessConfig, harness_stack: RunningStack
) -> Iterator[ServiceInstances]:
    """More processes of the stack's services (`ServiceInstances`); stopped after the test."""
    yield from _for_the_test(ServiceInstances, harness_config, harness_stack)


@pytest.fixture
def server_instance(
    harness_config: HarnessConfig, harness_stack: RunningStack
) -> Iterator[ServerInstances]:
    """Auxiliary servers of the test's own (`ServerInstances`); stopped after the test."""
    yield from _for_the_test(ServerInstances, harness_config, harness_stack)
