"""pytest plugin (loaded with `harness`): no password in what a report shows or writes.

Every test and collection report is masked (`harness.infra._masking`) before the terminal or
the JUnit file sees it: the traceback with its function arguments and source lines, the
crash message, and the captured output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

import pytest

from harness.infra import mask_secrets


def _masked(value: Any) -> Any:
    """`value` with the passwords of every string in it masked; a dataclass in place."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*(_masked(item) for item in value))
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    mutable = dataclasses.is_dataclass(value) and not isinstance(value, type)
    if mutable and not value.__dataclass_params__.frozen:
        for field in dataclasses.fields(value):
            setattr(value, field.name, _masked(getattr(value, field.name)))
    return value


def mask_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Mask the report's failure description and captured sections in place."""
    report.longrepr = _masked(report.longrepr)
    report.sections = _masked(report.sections)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    mask_report(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report() -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    mask_report(report)
    return report
