"""What every reference service shares: the health endpoint and JSON error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app(name: str, description: str) -> FastAPI:
    """A FastAPI app with `GET /health` and JSON errors for malformed requests."""
    app = FastAPI(title=name, description=description, version="0.1.0")

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {
            "status": "healthy",
            "service": name,
            "timestamp": datetime.now(UTC).isoformat(),
        }

    @app.exception_handler(ValueError)
    async def value_error(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    return app
