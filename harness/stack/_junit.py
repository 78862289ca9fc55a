"""harness's own JUnit suite for a run: each service's start and stop as a test case.

A start case takes the time from spawn to healthy and fails when the service did not
start; a stop case fails when the service leaked (its port still held, a process that
escaped its group). Problems of the run as a whole (its database) go in a `teardown` case.
Written with junit-xml to `reports/junit/<run>.lifecycle.xml` (the path the run's state
names) by an observer of the stack, when its start fails or it is taken down; the merge
names the suite `<package>[<db>] lifecycle`.
"""

from __future__ import annotations

from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.exceptions import ServiceStartError
from harness.infra import RunState, mask_secrets
from harness.stack._events import Event, StackDown, StartFailed
from harness.stack._teardown import Teardown


def lifecycle_suite(
    state: RunState, teardown: Teardown | None, start_error: BaseException | None = None
) -> TestSuite:
    classname = f"harness.lifecycle.{state.run_id}"
    cases = []
    failed = start_error if isinstance(start_error, ServiceStartError) else None
    for record in state.processes():
        name = record.name
        case = TestCase(f"start {name}", classname, record.healthy_after or 0.0)
        if failed is not None and name == failed.service:
            case.add_failure_info(failed.reason, str(failed))
        elif record.healthy_after is None:
            case.add_skipped_info("not healthy yet when the start was abandoned")
        cases.append(case)
    if start_error is not None and failed is None:
        case = TestCase("start the stack", classname)
        case.add_failure_info(str(start_error) or type(start_error).__name__)
        cases.append(case)
    if teardown is not None:
        for name, seconds in teardown.stop_seconds.items():
            case = TestCase(f"stop {name}", classname, seconds)
            if name in teardown.leaks:
                case.add_failure_info(teardown.leaks[name])
            cases.append(case)
        case = TestCase("teardown", classname, stderr="\n".join(teardown.notes) or None)
        others = [p for p in teardown.problems if p not in teardown.leaks.values()]
        if others:
            case.add_failure_info("; ".join(others))
        cases.append(case)
    properties = {"harness.backend": state.backend, "harness.run_id": state.run_id}
    return TestSuite(f"lifecycle[{state.run_id}]", cases, properties=properties)


def write_lifecycle(event: Event) -> None:
    """Observer: the run's lifecycle suite, once its start failed or it was taken down."""
    if not isinstance(event, StartFailed | StackDown) or not event.state.lifecycle_junit:
        return
    error = event.error if isinstance(event, StartFailed) else None
    _write(Path(event.state.lifecycle_junit), event.state, event.teardown, error)


def _write(
    path: Path, state: RunState, teardown: Teardown | None, start_error: BaseException | None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suite = lifecycle_suite(state, teardown, start_error)
    path.write_text(mask_secrets(to_xml_report_string([suite], encoding="utf-8")))
