"""Checking live responses against a service's contract (OpenAPI 3.1).

`ContractValidator(document, "records").problems(response)` lists what an httpx response
does that the contract does not document: an unknown operation or status, a content type
not offered, a body that breaks the schema, a required header missing, a list out of the
order its operation documents (`x-order`, see `harness/contracts/_documented_order.py`).
`ContractValidator.hook()` turns that into an httpx response hook that raises
`ContractViolation`, so every request a test makes is checked without per-test code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from harness.contracts._documented_order import declared_order, order_problems
from harness.contracts._documents import Document
from harness.exceptions import ContractError, ContractViolation

CONTRACT_URI = "urn:harness:contract"
MAX_SCHEMA_ERRORS = 5


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    item: dict[str, Any]


class ContractValidator:
    """Validates responses against one checked-in contract; counts what it checked."""

    def __init__(self, document: Document, label: str) -> None:
        version = str(document.get("openapi", ""))
        if not version.startswith("3.1"):
            raise ContractError(
                f"{label}: conformance checks need an OpenAPI 3.1 document, got {version!r}"
            )
        self.label = label
        self.checked = 0
        self._routes = _routes(document.get("paths", {}))
        self._orders = {
            (route.template, method): declared_order(
                operation, f"{label}: {method.upper()} {route.template}"
            )
            for route in self._routes
            for method, operation in route.item.items()
            if isinstance(operation, dict)
        }
        self._registry: Registry[Any] = Registry().with_resource(
            CONTRACT_URI, DRAFT202012.create_resource(document)
        )
        self._schemas: dict[str, Draft202012Validator] = {}

    def problems(self, response: httpx.Response) -> list[str]:
        """What about this (read) response the contract does not allow; [] when it conforms."""
        self.checked += 1
        method = response.request.method.lower()
        path = response.request.url.path
        route = next((r for r in self._routes if r.pattern.fullmatch(path)), None)
        if route is None or method not in route.item:
            return [f"{method.upper()} {path} is not an operation of the contract"]
        pointer = f"/paths/{_escape(route.template)}/{method}/responses"
        documented = route.item[method].get("responses", {})
        key = _response_key(response.status_code, documented)
        if key is None:
            return [
                f"status {response.status_code} is not documented "
                f"(documented: {', '.join(sorted(documented)) or 'none'})"
            ]
        spec = documented[key]
        pointer += f"/{_escape(key)}"
        return [
            *self._header_problems(response, spec),
            *self._body_problems(response, spec.get("content") or {}, pointer + "/content"),
            *self._order_problems(response, self._orders.get((route.template, method), [])),
        ]

    def hook(self) -> Callable[[httpx.Response], None]:
        """An httpx response hook raising ContractViolation for a non-conforming response."""

        def check(response: httpx.Response) -> None:
            response.read()
            problems = self.problems(response)
            if problems:
                request = response.request
                raise ContractViolation(
                    f"{self.label}: {request.method} {request.url.path} answered "
                    f"{response.status_code}, which breaks the checked-in contract:\n  - "
                    + "\n  - ".join(problems)
                    + "\nFix the service, or change the contract on purpose "
                    "(`invoke contracts.export`)."
                    + self._status_hint(response.status_code, problems),
                    problems,
                )

        return check

    def _status_hint(self, status: int, problems: list[str]) -> str:
        """How to document a status the service answers but its contract does not list."""
        if not problems[0].startswith(f"status {status} is not documented"):
            return ""
        return (
            f"\nIf {status} is meant: document it on the operation (FastAPI: "
            f"`responses={{{status}: {{...}}}}` on the route), or, when the framework answers it "
            f"on any operation, list it in tool.harness.services.{self.label}.framework_statuses."
        )

    def _header_problems(self, response: httpx.Response, spec: dict[str, Any]) -> list[str]:
        return [
            f"required header {name!r} is missing"
            for name, header in (spec.get("headers") or {}).items()
            if header.get("required") and name not in response.headers
        ]

    def _body_problems(
        self, response: httpx.Response, content: dict[str, Any], pointer: str
    ) -> list[str]:
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content:
            if response.content:
                return [f"a body of {len(response.content)} bytes where none is documented"]
            return []
        offered = next((m for m in content if _media_matches(m, media_type)), None)
        if offered is None:
            return [f"content type {media_type or 'none'!r} is not one of {sorted(content)}"]
        if "schema" not in content[offered] or not _is_json(media_type):
            return []
        try:
            body = json.loads(response.content)
        except ValueError:
            return [f"body is not valid JSON though the content type is {media_type!r}"]
        validator = self._schema(f"{pointer}/{_escape(offered)}/schema")
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
        return [
            f"body{_json_path(error.absolute_path)}: {error.message}"
            for error in errors[:MAX_SCHEMA_ERRORS]
        ]

    def _order_problems(self, response: httpx.Response, order: list[str]) -> list[str]:
        if not order or not response.is_success:
            return []
        try:
            body = json.loads(response.content)
        except ValueError:
            return []  # the body check says so
        return order_problems(body, order)

    def _schema(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._schemas:
            self._schemas[pointer] = Draft202012Validator(
                {"$ref": f"{CONTRACT_URI}#{pointer}"}, registry=self._registry
            )
        return self._schemas[pointer]


def _routes(paths: dict[str, Any]) -> list[_Route]:
    """Path templates as patterns, literal paths first so `/a/new` wins over `/a/{id}`."""
    routes = [
        _Route(
            template,
            re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))),
            item,
        )
        for template, item in paths.items()
    ]
    return sorted(routes, key=lambda route: route.template.count("{"))


def _response_key(status: int, documented: dict[str, Any]) -> str | None:
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in documented:
            return key
    return None


def _media_matches(documented: str, actual: str) -> bool:
    kind, _, subtype = documented.lower().partition("/")
    actual_kind, _, actual_subtype = actual.partition("/")
    return kind in ("*", actual_kind) and subtype in ("*", actual_subtype)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _escape(token: str) -> str:
    """A JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _json_path(path: Any) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
