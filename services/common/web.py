"""What every reference service shares: the health endpoint and documented JSON errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

ERROR_DESCRIPTIONS = {
    400: "The request is well-formed but cannot be carried out",
    404: "A resource the request names does not exist",
    409: "The request conflicts with the current state",
    413: "The upload is too large",
    502: "A service this one depends on answered wrongly",
    503: "A service this one depends on is unreachable",
}


class ErrorBody(BaseModel):
    """Every error this monorepo's services answer with, besides FastAPI's 422."""

    detail: str


class Health(BaseModel):
    status: str
    service: str
    timestamp: datetime


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries documenting that an operation may answer with these errors."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


def create_app(name: str, description: str, version: str) -> FastAPI:
    """A FastAPI app with `GET /health`; `version` is the API's (contract's) version."""
    app = FastAPI(title=name, description=description, version=version)

    @app.get("/health", tags=["health"], response_model=Health)
    def health() -> dict[str, str]:
        return {
            "status": "healthy",
            "service": name,
            "timestamp": datetime.now(UTC).isoformat(),
        }

    return app
