"""Calls from one service to another over HTTP: bounded retries, failures mapped to 502/503.

Retries follow what is safe to repeat. A request that never reached the other service
(connection refused) is retried whatever its method. Idempotent requests (GET, PUT,
DELETE, ...) are also retried when the answer was 429 or 503, honouring Retry-After, or
when the connection broke mid-answer. A POST that may have been carried out is never
repeated: the caller gets a 502 that says so. A dependency slower than the timeout
(`SERVICE_CALL_TIMEOUT` seconds, default 5) is not retried: it gets a 503 at once.
"""

from __future__ import annotations

import functools
import os
import random
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx
from fastapi import HTTPException

DEPENDENCY_ERRORS = (502, 503)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 503})
TIMEOUT_VARIABLE = "SERVICE_CALL_TIMEOUT"
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries, exponential backoff with jitter, Retry-After up to a cap."""

    attempts: int = 3
    first_delay: float = 0.1
    max_delay: float = 1.0
    max_retry_after: float = 2.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        return min(self.max_delay, self.first_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1)

    def wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this answer; None when Retry-After asks too much."""
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is None:
            return self.backoff(attempt)
        return retry_after if retry_after <= self.max_retry_after else None


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: httpx builds a new one for every client,
    and loading the CA bundle took 18 ms of each export (found by the perf package)."""
    return ssl.create_default_context()


def _timeout() -> httpx.Timeout:
    value = os.environ.get(TIMEOUT_VARIABLE, str(DEFAULT_TIMEOUT))
    try:
        seconds = float(value)
    except ValueError:
        raise HTTPException(
            503, f"{TIMEOUT_VARIABLE}={value!r} is not a number of seconds; fix the environment"
        ) from None
    return httpx.Timeout(seconds, connect=min(seconds, 2.0))


class ServiceClient:
    """`with ServiceClient("records") as records: records.get("/cases/1")` -> JSON, or None.

    The other service's URL comes from `<NAME>_SERVICE_URL`, as harness wires it.
    """

    def __init__(self, service: str, retry: RetryPolicy | None = None) -> None:
        self.service = service
        variable = f"{service.upper()}_SERVICE_URL"
        url = os.environ.get(variable)
        if not url:
            raise HTTPException(503, f"{variable} is not set; cannot reach {service}")
        self._retry = retry or RetryPolicy()
        self._client = httpx.Client(
            base_url=url, timeout=_timeout(), trust_env=False, verify=_tls_context()
        )

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def get(self, path: str) -> dict[str, Any] | None:
        """GET a resource; None for 404, HTTPException 502/503 when the service fails."""
        response = self._send("GET", path)
        if response.status_code == 404:
            return None
        return self._json(response, "GET", path, expected=200)

    def require(self, path: str, what: str) -> dict[str, Any]:
        """GET a resource that must exist; 404 naming `what` when it does not."""
        body = self.get(path)
        if body is None:
            raise HTTPException(404, f"{what} not found in {self.service}")
        return body

    def require_in_case(self, path: str, what: str, case_id: int) -> dict[str, Any]:
        """GET a resource that must exist (404) and belong to case `case_id` (409)."""
        body = self.require(path, what)
        if body["case_id"] != case_id:
            raise HTTPException(
                409, f"{what} belongs to case {body['case_id']}, not case {case_id}"
            )
        return body

    def post(self, path: str, json: dict[str, Any]) -> dict[str, Any]:
        """POST that must answer 201; anything else is a 502 naming the answer."""
        return self._json(self._send("POST", path, json=json), "POST", path, expected=201)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried as far as the module docstring says is safe."""
        request = f"{method} {path}"
        idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            attempt += 1
            wait: float | None
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.ConnectError:
                failure = HTTPException(
                    503, f"{self.service} is unreachable: {request} refused {attempt} time(s)"
                )
                wait = self._retry.backoff(attempt)
            except httpx.TimeoutException:
                raise HTTPException(
                    503, f"{self.service} did not answer {request} in time"
                ) from None
            except httpx.TransportError as exc:
                failure = HTTPException(
                    502,
                    f"the connection to {self.service} broke during {request} "
                    f"({exc.__class__.__name__})"
                    + (
                        ""
                        if idempotent
                        else "; it may have been carried out, so it was not "
                        "repeated: check before trying again"
                    ),
                )
                wait = self._retry.backoff(attempt) if idempotent else None
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = HTTPException(
                    503,
                    f"{self.service} answered {request} with {response.status_code} "
                    f"after {attempt} attempt(s)",
                )
                wait = self._retry.wait_for(response, attempt) if idempotent else None
            if wait is None or attempt >= self._retry.attempts:
                raise failure
            time.sleep(wait)

    def _json(
        self, response: httpx.Response, method: str, path: str, expected: int
    ) -> dict[str, Any]:
        if response.status_code != expected:
            raise HTTPException(
                502, f"{self.service} answered {method} {path} with {response.status_code}"
            )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise HTTPException(
                502, f"{self.service} answered {method} {path} with invalid JSON"
            ) from None
        return body
