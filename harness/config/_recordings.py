"""A stub's recordings file: request/response pairs recorded from the real third party.

    [
      {"request": {"method": "POST", "path": "/v1/messages",
                   "headers": {"Idempotency-Key": "…"}, "json": {"to": ["a@b.example"]}},
       "response": {"status": 202, "json": {"id": "msg_1"}}}
    ]

The stub answers a request no test scripted with the recorded response of the same method
and path, and `shape_differences` says how a request a service sent differs from the one
recorded (a header it lacks, a JSON field missing, added or of another type): a contract
check of what the service sends. Every mistake in the file is one `ConfigError` line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config._tables import did_you_mean
from harness.exceptions import ConfigError

_REQUEST_KEYS = {"method", "path", "headers", "json", "body"}
_RESPONSE_KEYS = {"status", "headers", "json", "body"}
_NO_JSON = object()


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Recording:
    """One recorded exchange; `json` is the request's JSON body (`_NO_JSON` when none)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    response: RecordedResponse

    @property
    def has_json(self) -> bool:
        return self.json is not _NO_JSON


def load_recordings(path: Path) -> list[Recording]:
    """The pairs in `path`; a ConfigError naming the file, the pair and the key when wrong."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not a JSON text file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{path}: must be a non-empty list of {{request, response}} pairs")
    return [_recording(item, f"{path}: [{index}]") for index, item in enumerate(data)]


def _recording(item: Any, key: str) -> Recording:
    if not isinstance(item, dict) or set(item) != {"request", "response"}:
        raise ConfigError(f"{key}: must be an object with exactly 'request' and 'response'")
    request = _object(item["request"], f"{key}.request", _REQUEST_KEYS)
    response = _object(item["response"], f"{key}.response", _RESPONSE_KEYS)
    method, path = request.get("method"), request.get("path")
    if not isinstance(method, str) or not method.isalpha():
        raise ConfigError(f"{key}.request.method: must be an HTTP method, got {method!r}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(f"{key}.request.path: must be a path starting with '/', got {path!r}")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ConfigError(f"{key}.response.status: must be an HTTP status, got {status!r}")
    headers, body = _headers_and_body(response, f"{key}.response")
    return Recording(
        method=method.upper(),
        path=path,
        headers=_headers_and_body(request, f"{key}.request")[0],
        json=request.get("json", _NO_JSON),
        response=RecordedResponse(status, headers, body),
    )


def _object(value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be an object")
    for name in value:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}: unknown key{did_you_mean(name, allowed)}")
    return value


def _headers_and_body(message: dict[str, Any], key: str) -> tuple[dict[str, str], bytes]:
    """Its headers and body bytes (`json` encoded, with its Content-Type unless given)."""
    headers = message.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{key}.headers: must be an object of strings")
    if "json" in message and "body" in message:
        raise ConfigError(f"{key}: give 'json' or 'body', not both")
    if "json" in message:
        named = {name.lower() for name in headers}
        default_type = {} if "content-type" in named else {"Content-Type": "application/json"}
        return {**headers, **default_type}, json.dumps(message["json"]).encode()
    body = message.get("body", "")
    if not isinstance(body, str):
        raise ConfigError(f"{key}.body: must be a string (or give 'json')")
    return dict(headers), body.encode()


def recording_for(recordings: list[Recording], method: str, path: str) -> Recording | None:
    """The first recording of `method` on `path` (its query left out), or None."""
    bare = path.split("?", 1)[0]
    return next((r for r in recordings if r.method == method and r.path == bare), None)


def shape_differences(
    recording: Recording, headers: list[tuple[str, str]], body: bytes
) -> list[str]:
    """How a sent request differs from `recording`: a recorded header it lacks (names only:
    values such as keys and dates vary), and a JSON body of another shape (fields missing
    or added, values of another JSON type, at any depth)."""
    sent = {name.lower() for name, _ in headers}
    missing = [name for name in recording.headers if name.lower() not in sent]
    problems = [f"header {name}: recorded, not sent" for name in missing]
    if not recording.has_json:
        return problems
    try:
        document = json.loads(body)
    except ValueError:
        return [*problems, "body: recorded as JSON, sent as something else"]
    return [*problems, *_json_differences(recording.json, document, "body")]


def _json_differences(recorded: Any, sent: Any, where: str) -> list[str]:
    if _json_type(recorded) != _json_type(sent):
        return [f"{where}: recorded as {_json_type(recorded)}, sent as {_json_type(sent)}"]
    if isinstance(recorded, dict):
        problems = [f"{where}.{k}: recorded, not sent" for k in recorded if k not in sent]
        problems += [f"{where}.{k}: sent, not recorded" for k in sent if k not in recorded]
        for name in (k for k in recorded if k in sent):
            problems += _json_differences(recorded[name], sent[name], f"{where}.{name}")
        return problems
    if isinstance(recorded, list) and recorded:
        return [
            problem
            for index, item in enumerate(sent)
            for problem in _json_differences(recorded[0], item, f"{where}[{index}]")
        ]
    return []


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names = {str: "string", list: "array", dict: "object", type(None): "null"}
    return names[type(value)]
