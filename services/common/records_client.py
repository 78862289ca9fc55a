"""Calls from one service to records over HTTP, with the failures mapped to 502/503 answers."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx
from fastapi import HTTPException

RECORDS_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
DEPENDENCY_ERRORS = (502, 503)


class RecordsClient:
    """`with RecordsClient() as records: records.get("/cases/1")` -> the JSON body, or None."""

    def __init__(self) -> None:
        url = os.environ.get("RECORDS_SERVICE_URL")
        if not url:
            raise HTTPException(503, "RECORDS_SERVICE_URL is not set; cannot reach records")
        self._client = httpx.Client(base_url=url, timeout=RECORDS_TIMEOUT)

    def __enter__(self) -> RecordsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def get(self, path: str) -> dict[str, Any] | None:
        """GET a records resource; None for 404, HTTPException 502/503 when records fails."""
        try:
            response = self._client.get(path)
        except httpx.TimeoutException:
            raise HTTPException(503, f"records did not answer GET {path} in time") from None
        except httpx.TransportError as exc:
            raise HTTPException(503, f"records is unreachable: {exc.__class__.__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise HTTPException(502, f"records answered GET {path} with {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise HTTPException(502, f"records answered GET {path} with invalid JSON") from None
        return body

    def require(self, path: str, what: str) -> dict[str, Any]:
        """GET a records resource that must exist; 404 naming `what` when it does not."""
        body = self.get(path)
        if body is None:
            raise HTTPException(404, f"{what} not found in records")
        return body
