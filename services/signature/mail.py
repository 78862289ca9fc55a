"""Sending e-mail through a third party's API (`MAIL_URL`): one idempotency key per message,
a timeout per attempt, and a bounded retry policy.

`POST {MAIL_URL}/v1/messages` with `Authorization: Bearer $MAIL_API_KEY`, the message's
`Idempotency-Key` (the same on every attempt, so the provider sends it once however often it
is retried) and the caller's `X-Correlation-ID`. Each attempt may take `MAIL_TIMEOUT`
seconds (default 5). A time-out, a broken connection, a 5xx and a 429 are retried, at most
3 attempts, with jittered backoff, a 429 after its `Retry-After` when that is at most 2 s.
A 4xx is the provider refusing the message: never retried. Every attempt is logged, with
the key and the answer, never the API key.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import HTTPException

from services.common.service_client import RetryPolicy

CORRELATION_HEADER = "X-Correlation-ID"
DEFAULT_TIMEOUT = 5.0
POLICY = RetryPolicy(attempts=3, first_delay=0.1, max_delay=1.0, max_retry_after=2.0)

log = logging.getLogger("signature.mail")
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)


@dataclass(frozen=True)
class Sent:
    message_id: str
    attempts: int


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise HTTPException(503, f"{name} is not set; cannot send e-mail")
    return value


def sender() -> str:
    """The address messages are sent from (`MAIL_FROM`)."""
    return os.environ.get("MAIL_FROM", "filings@drafting.example")


def _timeout() -> float:
    value = os.environ.get("MAIL_TIMEOUT", str(DEFAULT_TIMEOUT))
    try:
        return float(value)
    except ValueError:
        raise HTTPException(503, f"MAIL_TIMEOUT={value!r} is not a number of seconds") from None


def send(message: dict[str, Any], idempotency_key: str, correlation_id: str | None) -> Sent:
    """Send `message` once, however many attempts it takes; HTTPException 502/503/504 when
    the provider refuses it or cannot be reached."""
    timeout = _timeout()
    headers = {
        "Authorization": f"Bearer {_setting('MAIL_API_KEY')}",
        "Idempotency-Key": idempotency_key,
        **({CORRELATION_HEADER: correlation_id} if correlation_id else {}),
    }
    with httpx.Client(base_url=_setting("MAIL_URL"), timeout=timeout, trust_env=False) as client:
        attempt = 0
        while True:
            attempt += 1
            outcome, wait = _attempt(client, message, headers, attempt, timeout)
            if isinstance(outcome, Sent):
                return outcome
            if wait is None or attempt >= POLICY.attempts:
                raise outcome
            time.sleep(wait)


def _attempt(
    client: httpx.Client,
    message: dict[str, Any],
    headers: dict[str, str],
    attempt: int,
    timeout: float,
) -> tuple[Sent | HTTPException, float | None]:
    """One attempt: what came of it, and how long to wait before the next (None: no next)."""
    key = headers["Idempotency-Key"]
    try:
        response = client.post("/v1/messages", json=message, headers=headers)
    except httpx.TimeoutException:
        log.warning("attempt %d, key %s: no answer in %g s", attempt, key, timeout)
        detail = f"the mail API did not answer in {timeout:g} s ({attempt} attempt(s))"
        return HTTPException(504, detail), POLICY.backoff(attempt)
    except httpx.TransportError as exc:
        log.warning("attempt %d, key %s: %s", attempt, key, exc.__class__.__name__)
        detail = f"the mail API could not be reached or broke off ({exc.__class__.__name__}, "
        return HTTPException(503, detail + f"{attempt} attempt(s))"), POLICY.backoff(attempt)
    log.info("attempt %d, key %s: %d", attempt, key, response.status_code)
    if response.is_success:
        return _sent(response, attempt), None
    if response.status_code == 429:
        wait = POLICY.wait_for(response, attempt)
        after = response.headers.get("Retry-After", "none")
        detail = f"the mail API is limiting the rate (429, Retry-After {after}) after {attempt}"
        return HTTPException(503, detail + " attempt(s)"), wait
    if response.status_code >= 500:
        detail = f"the mail API answered {response.status_code} after {attempt} attempt(s)"
        return HTTPException(503, detail), POLICY.backoff(attempt)
    detail = f"the mail API refused the message: {response.status_code} {response.text[:200]}"
    return HTTPException(502, detail), None


def _sent(response: httpx.Response, attempt: int) -> Sent | HTTPException:
    try:
        message_id = response.json()["id"]
    except (ValueError, KeyError, TypeError):
        return HTTPException(502, "the mail API accepted the message but gave no message id")
    return Sent(str(message_id), attempt)
