"""The stack's events, as an observer sees them on a real run of real processes."""

from __future__ import annotations

import pytest

from conftest import app_command, assert_nothing_left
from harness.exceptions import ServiceStartError
from harness.stack import Event, Stack
from harness.stack._events import (
    DatabaseProvisioned,
    ServiceHealthy,
    ServiceSpawned,
    StackDown,
    StackUp,
    StartFailed,
)


def test_a_run_tells_each_spawn_before_its_health_and_dependents_after_it(two_services):
    seen: list[Event] = []
    stack = Stack(two_services, "told", [seen.append])

    state = stack.up("sqlite", auto_ports=True)
    report = stack.down()

    assert report.ok, report.problems
    kinds = [(type(event).__name__, getattr(event, "name", None)) for event in seen]
    assert kinds.index(("ServiceSpawned", "alpha")) < kinds.index(("ServiceHealthy", "alpha"))
    assert kinds.index(("ServiceHealthy", "alpha")) < kinds.index(("ServiceSpawned", "beta"))
    assert kinds.index(("ServiceSpawned", "beta")) < kinds.index(("ServiceHealthy", "beta"))
    assert [type(event) for event in seen[-2:]] == [StackUp, StackDown]
    spawned = {e.name: e for e in seen if isinstance(e, ServiceSpawned)}
    assert {name: e.pid for name, e in spawned.items()} == {
        name: record.process.pid for name, record in state.services.items()
    }
    healthy = {e.name: e.url for e in seen if isinstance(e, ServiceHealthy)}
    assert healthy == {name: record.url for name, record in state.services.items()}
    assert sum(isinstance(e, DatabaseProvisioned) for e in seen) == 1
    assert_nothing_left(state)


def test_a_failed_start_is_told_once_with_its_error_and_what_was_taken_down(make_config):
    config = make_config(
        {
            "alpha": {"command": app_command("healthy", "--name", "alpha")},
            "broken": {"command": app_command("exit", "--name", "broken"), "depends_on": ["alpha"]},
        }
    )
    seen: list[Event] = []

    with pytest.raises(ServiceStartError):
        Stack(config, "refused", [seen.append]).up("sqlite", auto_ports=True)

    failed = [event for event in seen if isinstance(event, StartFailed)]
    assert len(failed) == 1 and not any(isinstance(event, StackUp) for event in seen)
    assert isinstance(failed[0].error, ServiceStartError) and failed[0].error.service == "broken"
    assert "alpha" in failed[0].teardown.stopped and failed[0].teardown.ok
    assert_nothing_left(failed[0].state)
