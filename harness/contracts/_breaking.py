"""Breaking changes between two OpenAPI 3.x documents, named after oasdiff's rules.

`breaking_changes(old, new)` lists what a client written against `old` could trip on
when talking to a service that keeps `new`: removed paths, operations, success statuses
and media types; new or newly required request parameters and properties; tightened
request constraints (maxLength down, minimum up, pattern added, enum values removed);
changed types; response properties removed, made optional or nullable; required response
headers removed. Each finding names its rule, its path and its operation.
`judge(old, new)` adds the versions: a breaking change is allowed only by a major bump of
`info.version`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_DEPTH = 32
Emit = Callable[[str, str], None]


@dataclass(frozen=True)
class Finding:
    """One breaking change: `rule` (oasdiff's name), where it is and what changed."""

    rule: str
    path: str
    operation: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.operation} {self.path}: {self.detail}"


@dataclass(frozen=True)
class Verdict:
    """The findings between two versions of a contract, and whether the versions allow them."""

    findings: list[Finding]
    old_version: str
    new_version: str

    @property
    def major_bump(self) -> bool:
        return is_major_bump(self.old_version, self.new_version)

    @property
    def allowed(self) -> bool:
        return not self.findings or self.major_bump

    def report(self, label: str) -> str:
        """What a person reads: the findings, and what to do when they are not allowed."""
        if not self.findings:
            return f"{label}: no breaking change"
        lines = [
            f"{label}: {len(self.findings)} breaking change(s), "
            f"info.version {self.old_version} -> {self.new_version}:",
            *(f"  - {finding}" for finding in self.findings),
        ]
        if not self.allowed:
            lines.append(
                "Undo the change, or make it on purpose: bump the major part of info.version "
                "in the service and re-export its contract (`invoke contracts.export`)."
            )
        return "\n".join(lines)


def judge(old: Document, new: Document) -> Verdict:
    """The breaking changes from `old` to `new`, with both documents' `info.version`."""
    return Verdict(
        findings=breaking_changes(old, new),
        old_version=str(old.get("info", {}).get("version", "")),
        new_version=str(new.get("info", {}).get("version", "")),
    )


def is_major_bump(old_version: str, new_version: str) -> bool:
    """True when the leading number of `new_version` is greater than that of `old_version`."""
    old_major, new_major = _major(old_version), _major(new_version)
    return old_major is not None and new_major is not None and new_major > old_major


def breaking_changes(old: Document, new: Document) -> list[Finding]:
    """Every breaking change from `old` to `new`, in path and operation order."""
    findings: list[Finding] = []
    old_paths, new_paths = old.get("paths", {}), new.get("paths", {})
    for path, old_item in old_paths.items():
        for method in (m for m in METHODS if m in old_item):

            def emit(rule: str, detail: str, method: str = method, path: str = path) -> None:
                findings.append(Finding(rule, path, method.upper(), detail))

            if path not in new_paths:
                emit("api-path-removed-without-deprecation", "the path is gone")
            elif method not in new_paths[path]:
                emit("api-removed-without-deprecation", "the operation is gone")
            else:
                _Operations(old, new).compare(old_item[method], new_paths[path][method], emit)
    return findings


@dataclass
class _Schema:
    """A schema seen through `anyOf`/`$ref`: its non-null types, nullability and body."""

    types: frozenset[str] | None
    nullable: bool
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Operations:
    old: Document
    new: Document

    def compare(self, old_op: dict[str, Any], new_op: dict[str, Any], emit: Emit) -> None:
        self._parameters(old_op, new_op, emit)
        self._request_body(old_op, new_op, emit)
        self._responses(old_op.get("responses", {}), new_op.get("responses", {}), emit)

    def _parameters(self, old_op: dict[str, Any], new_op: dict[str, Any], emit: Emit) -> None:
        old_params = _by_key(self.old, old_op.get("parameters", []))
        for key, param in _by_key(self.new, new_op.get("parameters", [])).items():
            where = ".".join(key)
            before = old_params.get(key)
            if before is None:
                if param.get("required"):
                    emit("new-required-request-parameter", f"{where} is new and required")
                continue
            if param.get("required") and not before.get("required"):
                emit("request-parameter-became-required", f"{where} was optional")
            _Comparison(self.old, self.new, emit).request(
                before.get("schema", {}), param.get("schema", {}), "request-parameter", where
            )

    def _request_body(self, old_op: dict[str, Any], new_op: dict[str, Any], emit: Emit) -> None:
        old_body = _resolve(self.old, old_op.get("requestBody") or {})
        new_body = _resolve(self.new, new_op.get("requestBody") or {})
        if new_body.get("required") and not old_body.get("required"):
            emit("request-body-became-required", "a request body is now required")
        new_content = new_body.get("content", {})
        for media_type, old_media in old_body.get("content", {}).items():
            if media_type not in new_content:
                emit("request-body-media-type-removed", f"{media_type} is no longer accepted")
                continue
            _Comparison(self.old, self.new, emit).request(
                old_media.get("schema", {}),
                new_content[media_type].get("schema", {}),
                "request-property",
                "body",
            )

    def _responses(self, old: dict[str, Any], new: dict[str, Any], emit: Emit) -> None:
        for status, old_response in old.items():
            if status not in new:
                if status.startswith("2"):
                    emit("response-success-status-removed", f"status {status} is gone")
                continue
            old_response = _resolve(self.old, old_response)
            new_response = _resolve(self.new, new[status])
            self._headers(status, old_response, new_response, emit)
            new_content = new_response.get("content") or {}
            for media_type, old_media in (old_response.get("content") or {}).items():
                if media_type not in new_content:
                    emit("response-media-type-removed", f"{status} {media_type} is gone")
                    continue
                _Comparison(self.old, self.new, emit).response(
                    old_media.get("schema", {}),
                    new_content[media_type].get("schema", {}),
                    f"{status} body",
                )

    def _headers(self, status: str, old: dict[str, Any], new: dict[str, Any], emit: Emit) -> None:
        new_headers = {name.lower(): h for name, h in (new.get("headers") or {}).items()}
        for name, header in (old.get("headers") or {}).items():
            if not _resolve(self.old, header).get("required"):
                continue
            after = new_headers.get(name.lower())
            if after is None:
                emit("required-response-header-removed", f"{status} header {name} is gone")
            elif not _resolve(self.new, after).get("required"):
                emit("response-header-became-optional", f"{status} header {name} is optional")


@dataclass(frozen=True)
class _Comparison:
    """Walks an old and a new schema side by side, emitting the changes that break clients."""

    old: Document
    new: Document
    emit: Emit

    def request(self, old: Any, new: Any, kind: str, where: str, depth: int = 0) -> None:
        """`kind` is request-property or request-parameter: the new schema must accept more."""
        if depth > MAX_DEPTH:  # a recursive schema: deep enough to have seen every change
            return
        before, after = _view(self.old, old), _view(self.new, new)
        if after.types is not None and not _covers(after.types, before.types):
            self.emit(f"{kind}-type-changed", f"{where}: {_types(before)} -> {_types(after)}")
        if before.nullable and not after.nullable:
            self.emit(f"{kind}-became-not-nullable", f"{where} no longer accepts null")
        removed = _enum_removed(before.body, after.body)
        if removed:
            self.emit(f"{kind}-enum-value-removed", f"{where}: {removed} no longer accepted")
        for problem in _tightened(before.body, after.body):
            self.emit(f"{kind}-{problem[0]}", f"{where}: {problem[1]}")
        old_props = before.body.get("properties", {})
        new_props = after.body.get("properties", {})
        old_required = set(before.body.get("required", []))
        for name in after.body.get("required", []):
            if name not in old_props:
                self.emit("new-required-request-property", f"{where}.{name} is new and required")
            elif name not in old_required:
                self.emit("request-property-became-required", f"{where}.{name} was optional")
        for name in old_props.keys() & new_props.keys():
            self.request(
                old_props[name], new_props[name], "request-property", f"{where}.{name}", depth + 1
            )
        if "items" in before.body and "items" in after.body:
            self.request(before.body["items"], after.body["items"], kind, f"{where}[]", depth + 1)

    def response(self, old: Any, new: Any, where: str, depth: int = 0) -> None:
        """The new schema must promise at least what the old one did."""
        if depth > MAX_DEPTH:  # a recursive schema: deep enough to have seen every change
            return
        before, after = _view(self.old, old), _view(self.new, new)
        if before.types is not None and not _covers(before.types, after.types):
            self.emit(
                "response-property-type-changed", f"{where}: {_types(before)} -> {_types(after)}"
            )
        if after.nullable and not before.nullable:
            self.emit("response-property-became-nullable", f"{where} may now be null")
        added = _enum_removed(after.body, before.body)
        if added:
            self.emit("response-property-enum-value-added", f"{where}: {added} may now appear")
        old_props = before.body.get("properties", {})
        new_props = after.body.get("properties", {})
        new_required = set(after.body.get("required", []))
        for name in before.body.get("required", []):
            if name not in new_props:
                self.emit("response-required-property-removed", f"{where}.{name} is gone")
            elif name not in new_required:
                self.emit("response-property-became-optional", f"{where}.{name} may be left out")
        for name in old_props.keys() & new_props.keys():
            self.response(old_props[name], new_props[name], f"{where}.{name}", depth + 1)
        if "items" in before.body and "items" in after.body:
            self.response(before.body["items"], after.body["items"], f"{where}[]", depth + 1)


# (rule suffix, keyword, True when a larger value is tighter)
_LIMITS = (
    ("max-length-decreased", "maxLength", False),
    ("min-length-increased", "minLength", True),
    ("max-decreased", "maximum", False),
    ("min-increased", "minimum", True),
    ("max-items-decreased", "maxItems", False),
    ("min-items-increased", "minItems", True),
)


def _tightened(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(rule suffix, detail) for each request constraint the new schema tightens."""
    for rule, keyword, larger_is_tighter in _LIMITS:
        if keyword not in new:
            continue
        before, after = old.get(keyword), new[keyword]
        if before is None or (after > before if larger_is_tighter else after < before):
            yield rule, f"{keyword} {before if before is not None else 'unset'} -> {after}"
    if "pattern" in new and "pattern" not in old:
        yield "pattern-added", f"pattern {new['pattern']!r} added"
    elif "pattern" in new and new["pattern"] != old["pattern"]:
        yield "pattern-changed", f"pattern {old['pattern']!r} -> {new['pattern']!r}"


def _enum_removed(old: dict[str, Any], new: dict[str, Any]) -> list[Any]:
    """Values of `old`'s enum that `new`'s enum lacks ([] unless both have one)."""
    if "enum" not in old or "enum" not in new:
        return []
    return [value for value in old["enum"] if value not in new["enum"]]


def _view(document: Document, schema: Any) -> _Schema:
    """See through `$ref`, single-branch `allOf`, and `anyOf`/`oneOf` with a null branch."""
    schema = _resolve(document, schema if isinstance(schema, dict) else {})
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches is None and len(schema.get("allOf", [])) == 1:
        return _view(document, schema["allOf"][0])
    if branches is None:
        declared = schema.get("type")
        if declared is None:
            return _Schema(None, False, schema)
        types = {declared} if isinstance(declared, str) else set(declared)
        return _Schema(frozenset(types - {"null"}), "null" in types, schema)
    views = [_view(document, branch) for branch in branches]
    nullable = any(view.nullable or view.types == frozenset() for view in views)
    real = [view for view in views if view.types != frozenset()]
    if len(real) == 1:
        return _Schema(real[0].types, nullable or real[0].nullable, real[0].body)
    if any(view.types is None for view in real):
        return _Schema(None, nullable)
    return _Schema(frozenset().union(*(view.types or () for view in real)), nullable)


def _covers(wider: frozenset[str] | None, narrower: frozenset[str] | None) -> bool:
    """Whether every value of type `narrower` is one of `wider` (integers are numbers)."""
    if wider is None:
        return True
    if narrower is None:
        return False
    return all(t in wider or (t == "integer" and "number" in wider) for t in narrower)


def _types(view: _Schema) -> str:
    types = "any" if view.types is None else "|".join(sorted(view.types)) or "null"
    return f"{types}|null" if view.nullable and view.types else types


def _resolve(document: Document, node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/...`) until a node without one."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
        ref = node["$ref"]
        seen.add(ref)
        if not ref.startswith("#/"):
            return {}
        target: Any = document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            target = target.get(token, {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


def _by_key(document: Document, parameters: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    resolved = (_resolve(document, p) for p in parameters)
    return {(p.get("in", ""), p.get("name", "")): p for p in resolved}


def _major(version: str) -> int | None:
    match = re.match(r"v?(\d+)", version.strip())
    return int(match[1]) if match else None
