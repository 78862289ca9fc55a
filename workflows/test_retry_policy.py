"""services.common.service_client's retry policy, in-process: what is waited for and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from fastapi import HTTPException

from services.common.service_client import RetryPolicy, ServiceClient

POLICY = RetryPolicy(attempts=3, first_delay=0.1, max_delay=1.0, max_retry_after=2.0)


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize("attempt, low, high", [(1, 0.05, 0.1), (2, 0.1, 0.2), (6, 0.5, 1.0)])
def test_backoff_doubles_with_jitter_up_to_the_cap(attempt, low, high):
    waits = [POLICY.backoff(attempt) for _ in range(200)]

    assert low <= min(waits) and max(waits) <= high
    assert len(set(waits)) > 1  # jittered, so clients that failed together spread out


def test_retry_after_in_seconds_is_honoured_up_to_the_cap():
    assert POLICY.wait_for(answer(503, **{"Retry-After": "2"}), 1) == 2.0
    assert POLICY.wait_for(answer(503, **{"Retry-After": "3"}), 1) is None


def test_retry_after_as_an_http_date_counts_from_now():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert 0 < POLICY.wait_for(answer(429, **{"Retry-After": soon}), 1) <= 1.0
    assert POLICY.wait_for(answer(429, **{"Retry-After": later}), 1) is None


def test_an_unreadable_retry_after_falls_back_to_backoff():
    assert 0.05 <= POLICY.wait_for(answer(503, **{"Retry-After": "soon-ish"}), 1) <= 0.1


def test_a_dependency_without_a_url_is_a_503_naming_the_variable(monkeypatch):
    monkeypatch.delenv("RECORDS_SERVICE_URL", raising=False)

    with pytest.raises(HTTPException) as raised:
        ServiceClient("records")

    assert (raised.value.status_code, raised.value.detail) == (
        503,
        "RECORDS_SERVICE_URL is not set; cannot reach records",
    )


def test_a_timeout_that_is_not_a_number_is_a_503_naming_the_variable(monkeypatch):
    monkeypatch.setenv("RECORDS_SERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICE_CALL_TIMEOUT", "five")

    with pytest.raises(HTTPException) as raised:
        ServiceClient("records")

    assert raised.value.status_code == 503
    assert "SERVICE_CALL_TIMEOUT='five'" in raised.value.detail
