"""What every reference service shares: the health endpoint and documented JSON errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

ERROR_DESCRIPTIONS = {
    400: (
        "The request cannot be carried out, or its body cannot be parsed (not UTF-8, or JSON "
        "with NaN, Infinity or a number beyond the range of a double)"
    ),
    404: "A resource the request names does not exist",
    409: "The request conflicts with the current state",
    413: "The upload is too large",
    502: "A service this one depends on answered wrongly",
    503: "A service this one depends on is unreachable",
    504: "A service this one depends on did not answer in time",
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


def ordered_by(*fields: str) -> dict[str, Any]:
    """`openapi_extra=` stating the order of the list an operation answers (harness's
    `x-order`: these item fields, ascending), so conformance checks every answer against it."""
    return {"x-order": list(fields)}


NOT_JSON_NUMBER = (
    "the JSON body holds {value}: NaN, Infinity and numbers beyond the range of a double are "
    "not JSON numbers (RFC 8259); send a finite number"
)


def _not_a_number(value: str) -> float:
    """`parse_constant` for NaN, Infinity and -Infinity: refused."""
    raise HTTPException(400, NOT_JSON_NUMBER.format(value=value))


def _finite(value: str) -> float:
    """`parse_float` refusing a number that only fits a float as infinity (1e400)."""
    number = float(value)
    if not math.isfinite(number):
        raise HTTPException(400, NOT_JSON_NUMBER.format(value=value))
    return number


class StrictJSONRequest(Request):
    """A request whose JSON body is JSON: no NaN, no Infinity, no number out of range.

    Python's json module takes them, pydantic lets them through to the endpoint, and FastAPI's
    422 then fails to echo them back (a 500); here they are a 400 before anything else runs.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = json.loads(body, parse_constant=_not_a_number, parse_float=_finite)
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose endpoint reads its JSON body through `StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def create_app(name: str, description: str, version: str) -> FastAPI:
    """A FastAPI app with `GET /health`; `version` is the API's (contract's) version."""
    app = FastAPI(title=name, description=description, version=version)
    app.router.route_class = StrictJSONRoute

    @app.exception_handler(HTTPException)
    async def complete_allow_header(request: Request, exc: HTTPException) -> Response:
        """Starlette's 405 lists the methods of one route only; list every route's on the path."""
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        allowed = {
            method
            for route in app.routes
            if isinstance(route, APIRoute) and route.path_regex.fullmatch(request.url.path)
            for method in route.methods
        }
        return JSONResponse(
            {"detail": exc.detail}, status_code=405, headers={"Allow": ", ".join(sorted(allowed))}
        )

    _document_unparsable_bodies(app)

    @app.get("/health", tags=["health"], response_model=Health)
    def health() -> dict[str, str]:
        return {
            "status": "healthy",
            "service": name,
            "timestamp": datetime.now(UTC).isoformat(),
        }

    return app


def _document_unparsable_bodies(app: FastAPI) -> None:
    """Add to the OpenAPI document the 400 FastAPI answers when a body cannot be parsed.

    FastAPI sends `{"detail": "There was an error parsing the body"}` with 400 for a body
    that is not decodable (e.g. not UTF-8) but never documents it.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()  # FastAPI keeps it as app.openapi_schema
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.setdefault(ErrorBody.__name__, ErrorBody.model_json_schema())
            error = {
                "description": ERROR_DESCRIPTIONS[400],
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
                    }
                },
            }
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", error)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
