"""Stream contracts: a service's WebSocket streams as an AsyncAPI 3.0 document.

Checked in beside the OpenAPI contracts (`[tool.harness.contracts] asyncapi_dir`) and kept
by the same gates: drift against the document the service serves (`asyncapi` in the
service's table; `harness.contracts.drift`), breaking changes against the base revision
(`judge_stream`), and conformance of every message a test receives (`StreamValidator`).

A contract must first be a valid AsyncAPI document (`asyncapi_problems`), by the
specification's own JSON Schema: `asyncapi-3.0.0.schema.json` here is
`schemas/3.0.0-without-$id.json` of @asyncapi/specs 6.11.1 (Apache-2.0), minified.

Breaking, for a client of the stream: a channel removed (by address), a message removed
from a channel (by its `name`), and in a message's payload what breaks a response (a
required property removed or made optional, a type changed, a property made nullable, an
enum value added), named `message-…` after oasdiff's `response-…` rules.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match, relevance
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from harness.config import HarnessConfig
from harness.contracts._breaking import Document, Finding, Verdict, _Comparison, _resolve
from harness.contracts._documents import contract_at, load_contract
from harness.exceptions import ContractError, ContractViolation

STREAM_URI = "urn:harness:stream"
MAX_SCHEMA_ERRORS = 5
ASYNCAPI_SCHEMAS = {"3.0.0": "asyncapi-3.0.0.schema.json"}  # version -> bundled JSON Schema


def asyncapi_problems(document: Document) -> list[str]:
    """Why `document` is not a valid AsyncAPI document of the version it names, by that
    version's JSON Schema (the most telling error first, at most `MAX_SCHEMA_ERRORS`);
    [] when it is one."""
    version = str(document.get("asyncapi", ""))
    if version not in ASYNCAPI_SCHEMAS:
        known = ", ".join(ASYNCAPI_SCHEMAS)
        return [f"asyncapi {version!r}: harness checks AsyncAPI {known} documents"]
    bundled = resources.files("harness.contracts").joinpath(ASYNCAPI_SCHEMAS[version])
    validator = Draft7Validator(json.loads(bundled.read_text()))
    errors = sorted(validator.iter_errors(document), key=relevance)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(the document)'}: {_deepest(error).message}"
        for error in errors[:MAX_SCHEMA_ERRORS]
    ]


def _deepest(error: ValidationError) -> ValidationError:
    """Inside an anyOf/oneOf that failed, the branch error that says most."""
    return best_match([error]) or error


class StreamValidator:
    """Validates received messages against one checked-in AsyncAPI 3.0 contract; counts them."""

    def __init__(self, document: Document, label: str) -> None:
        version = str(document.get("asyncapi", ""))
        if not version.startswith("3."):
            raise ContractError(
                f"{label}: stream conformance needs an AsyncAPI 3.x document, got {version!r}"
            )
        self.label = label
        self.checked = 0
        self._document = document
        self._registry: Registry[Any] = Registry().with_resource(
            STREAM_URI, DRAFT202012.create_resource(document)
        )
        self._channels = sorted(
            (
                (_address_pattern(channel.get("address", "")), name, channel)
                for name, channel in document.get("channels", {}).items()
            ),
            key=lambda entry: entry[2].get("address", "").count("{"),
        )
        self._validators: dict[str, Draft202012Validator] = {}

    def problems(self, path: str, message: Any) -> list[str]:
        """What about `message` (parsed JSON), received on `path`, the contract does not
        allow; [] when it is one of the channel's messages."""
        self.checked += 1
        channel = next((c for c in self._channels if c[0].fullmatch(path)), None)
        if channel is None:
            return [f"{path} is not the address of a channel of the contract"]
        _, name, spec = channel
        candidates = {
            _resolve(self._document, ref).get("name", key): pointer
            for key, ref in spec.get("messages", {}).items()
            for pointer in [_payload_pointer(ref, name, key)]
        }
        if not candidates:
            return [f"channel {name} documents no message"]
        failures: dict[str, list[str]] = {}
        for message_name, pointer in candidates.items():
            errors = list(self._validator(pointer).iter_errors(message))
            if not errors:
                return []
            failures[message_name] = [
                f"message{_json_path(error.absolute_path)}: {error.message}"
                for error in sorted(errors, key=lambda error: list(error.path))
            ][:MAX_SCHEMA_ERRORS]
        named = message.get("type") if isinstance(message, dict) else None
        if named in failures:  # the message it says it is: that one's errors
            return [f"as {named}: {problem}" for problem in failures[named]]
        return [f"is none of the channel's messages ({', '.join(sorted(failures))})"]

    def check(self, path: str, message: Any) -> None:
        """Raise ContractViolation when `message`, received on `path`, does not conform."""
        problems = self.problems(path, message)
        if problems:
            raise ContractViolation(
                f"{self.label}: a message received on {path} breaks the checked-in stream "
                f"contract:\n  - " + "\n  - ".join(problems) + f"\n  message: {_short(message)}"
                "\nFix the service, or change the contract on purpose "
                "(`invoke contracts.export`).",
                problems,
            )

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{STREAM_URI}#{pointer}"}, registry=self._registry
            )
        return self._validators[pointer]


def judge_stream(old: Document, new: Document) -> Verdict:
    """The breaking changes from stream contract `old` to `new`, with their `info.version`."""
    return Verdict(
        findings=stream_breaking_changes(old, new),
        old_version=str(old.get("info", {}).get("version", "")),
        new_version=str(new.get("info", {}).get("version", "")),
    )


def stream_breaking_changes(old: Document, new: Document) -> list[Finding]:
    """Every breaking change from `old` to `new`: channels by address, messages by name."""
    findings: list[Finding] = []
    new_channels = {channel.get("address"): channel for channel in new.get("channels", {}).values()}
    for old_channel in old.get("channels", {}).values():
        address = str(old_channel.get("address"))
        new_channel = new_channels.get(address)
        if new_channel is None:
            findings.append(Finding("channel-removed", address, "RECEIVE", "the channel is gone"))
            continue
        new_messages = _messages(new, new_channel)
        for name, old_message in _messages(old, old_channel).items():

            def emit(rule: str, detail: str, name: str = name, address: str = address) -> None:
                rule = "message-" + rule.removeprefix("response-")
                findings.append(Finding(rule, address, name, detail))

            if name not in new_messages:
                findings.append(Finding("message-removed", address, name, "the message is gone"))
                continue
            _Comparison(old, new, emit).response(
                old_message.get("payload", {}), new_messages[name].get("payload", {}), "message"
            )
    return findings


def stream_verdict_since(config: HarnessConfig, service: str, revision: str) -> Verdict | None:
    """Breaking changes of `service`'s checked-in stream contract since `revision`; None if
    it is new."""
    path = config.stream_contract_path(service)
    old = contract_at(config.root, path, revision)
    return None if old is None else judge_stream(old, load_contract(path))


def _messages(document: Document, channel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A channel's messages by name (`name`, else their key)."""
    resolved = {key: _resolve(document, ref) for key, ref in channel.get("messages", {}).items()}
    return {message.get("name", key): message for key, message in resolved.items()}


def _payload_pointer(ref: dict[str, Any], channel: str, key: str) -> str:
    """The JSON pointer of a channel message's payload schema."""
    target = ref.get("$ref") if isinstance(ref, dict) else None
    if isinstance(target, str) and target.startswith("#/"):
        return target[1:] + "/payload"
    return f"/channels/{_escape(channel)}/messages/{_escape(key)}/payload"


def _address_pattern(address: str) -> re.Pattern[str]:
    """A channel address (`/cases/{case_id}/events`) as a pattern of the paths it names."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(address)))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _json_path(path: Any) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _short(message: Any, limit: int = 300) -> str:
    text = json.dumps(message, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"
