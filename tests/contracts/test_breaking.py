"""Breaking-change rules on two OpenAPI documents, one change at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from harness.contracts._breaking import breaking_changes, is_major_bump, judge

ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["id", "name"],
}
ITEM_IN = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 200, "minLength": 1},
        "kind": {"type": "string", "enum": ["a", "b"]},
        "size": {"type": "integer", "minimum": 0, "maximum": 10},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["name"],
}
BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "items", "version": "1.2.0"},
    "paths": {
        "/items": {
            "post": {
                "parameters": [
                    {
                        "name": "dry_run",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                        },
                    },
                    "422": {"description": "invalid"},
                },
            },
            "get": {
                "responses": {
                    "200": {
                        "description": "all",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Item"},
                                }
                            }
                        },
                    }
                }
            },
        },
        "/items/{item_id}": {
            "delete": {
                "parameters": [
                    {
                        "name": "item_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"204": {"description": "gone"}, "404": {"description": "unknown"}},
            }
        },
    },
    "components": {"schemas": {"Item": ITEM, "ItemIn": ITEM_IN}},
}
Change = Callable[[dict[str, Any]], None]


def _changed(change: Change) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    change(document)
    return document


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def _post(document: dict[str, Any]) -> dict[str, Any]:
    return document["paths"]["/items"]["post"]


BREAKING: list[tuple[str, str, str, Change]] = [
    (
        "api-path-removed-without-deprecation",
        "/items/{item_id}",
        "DELETE",
        lambda d: d["paths"].pop("/items/{item_id}"),
    ),
    ("api-removed-without-deprecation", "/items", "GET", lambda d: d["paths"]["/items"].pop("get")),
    (
        "response-success-status-removed",
        "/items/{item_id}",
        "DELETE",
        lambda d: d["paths"]["/items/{item_id}"]["delete"]["responses"].pop("204"),
    ),
    (
        "new-required-request-parameter",
        "/items",
        "POST",
        lambda d: _post(d)["parameters"].append(
            {"name": "tenant", "in": "header", "required": True, "schema": {"type": "string"}}
        ),
    ),
    (
        "request-parameter-became-required",
        "/items",
        "POST",
        lambda d: _post(d)["parameters"][0].update(required=True),
    ),
    (
        "request-parameter-type-changed",
        "/items",
        "POST",
        lambda d: _post(d)["parameters"][0].update(schema={"type": "integer"}),
    ),
    (
        "new-required-request-property",
        "/items",
        "POST",
        lambda d: (
            _schemas(d)["ItemIn"]["properties"].update(owner={"type": "string"}),
            _schemas(d)["ItemIn"]["required"].append("owner"),
        ),
    ),
    (
        "request-property-became-required",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["required"].append("kind"),
    ),
    (
        "request-property-type-changed",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["size"].update(type="string"),
    ),
    (
        "request-property-enum-value-removed",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["kind"].update(enum=["a"]),
    ),
    (
        "request-property-max-length-decreased",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["name"].update(maxLength=100),
    ),
    (
        "request-property-min-length-increased",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["name"].update(minLength=3),
    ),
    (
        "request-property-min-increased",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["size"].update(minimum=1),
    ),
    (
        "request-property-max-decreased",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["size"].update(maximum=9),
    ),
    (
        "request-property-pattern-added",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"]["name"].update(pattern="^[a-z]+$"),
    ),
    (
        "request-property-became-not-nullable",
        "/items",
        "POST",
        lambda d: _schemas(d)["ItemIn"]["properties"].update(nickname={"type": "string"}),
    ),
    (
        "request-body-media-type-removed",
        "/items",
        "POST",
        lambda d: _post(d)["requestBody"].update(
            content={"application/xml": {"schema": {"type": "object"}}}
        ),
    ),
    (
        "response-required-property-removed",
        "/items",
        "POST",
        lambda d: (
            _schemas(d)["Item"]["properties"].pop("name"),
            _schemas(d)["Item"]["required"].remove("name"),
        ),
    ),
    (
        "response-property-became-optional",
        "/items",
        "GET",
        lambda d: _schemas(d)["Item"]["required"].remove("name"),
    ),
    (
        "response-property-became-nullable",
        "/items",
        "POST",
        lambda d: _schemas(d)["Item"]["properties"].update(
            name={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
    ),
    (
        "response-property-type-changed",
        "/items",
        "GET",
        lambda d: _schemas(d)["Item"]["properties"]["id"].update(type="string"),
    ),
    (
        "response-media-type-removed",
        "/items",
        "GET",
        lambda d: d["paths"]["/items"]["get"]["responses"]["200"].update(
            content={"text/csv": {"schema": {"type": "string"}}}
        ),
    ),
    (
        "required-response-header-removed",
        "/items",
        "POST",
        lambda d: _post(d)["responses"]["201"].pop("headers"),
    ),
]


@pytest.mark.parametrize(
    "rule, path, operation, change", BREAKING, ids=[rule for rule, *_ in BREAKING]
)
def test_each_rule_is_reported_with_path_and_operation(rule, path, operation, change):
    findings = breaking_changes(BASE, _changed(change))

    assert (rule, path, operation) in {(f.rule, f.path, f.operation) for f in findings}, findings


COMPATIBLE: list[tuple[str, Change]] = [
    (
        "new path",
        lambda d: d["paths"].update(
            {"/other": {"get": {"responses": {"200": {"description": "x"}}}}}
        ),
    ),
    (
        "new optional request property",
        lambda d: _schemas(d)["ItemIn"]["properties"].update(colour={"type": "string"}),
    ),
    ("request property made optional", lambda d: _schemas(d)["ItemIn"]["required"].remove("name")),
    (
        "request maxLength raised",
        lambda d: _schemas(d)["ItemIn"]["properties"]["name"].update(maxLength=500),
    ),
    (
        "request enum value added",
        lambda d: _schemas(d)["ItemIn"]["properties"]["kind"].update(enum=["a", "b", "c"]),
    ),
    (
        "request integer widened to number",
        lambda d: _schemas(d)["ItemIn"]["properties"]["size"].update(type="number"),
    ),
    (
        "request property made nullable",
        lambda d: _schemas(d)["ItemIn"]["properties"].update(
            name={"anyOf": [{"type": "string", "maxLength": 200, "minLength": 1}, {"type": "null"}]}
        ),
    ),
    (
        "new response property",
        lambda d: _schemas(d)["Item"]["properties"].update(extra={"type": "string"}),
    ),
    (
        "optional response property made required",
        lambda d: _schemas(d)["Item"]["required"].append("tags"),
    ),
    (
        "response nullable made non-null",
        lambda d: _schemas(d)["Item"]["properties"].update(note={"type": "string"}),
    ),
    ("error status removed", lambda d: _post(d)["responses"].pop("422")),
    ("optional parameter removed", lambda d: _post(d).pop("parameters")),
    (
        "descriptions edited",
        lambda d: d["paths"]["/items"]["get"]["responses"]["200"].update(description="every item"),
    ),
]


@pytest.mark.parametrize("change", [c for _, c in COMPATIBLE], ids=[n for n, _ in COMPATIBLE])
def test_compatible_changes_are_not_breaking(change):
    assert breaking_changes(BASE, _changed(change)) == []


def test_a_document_against_itself_has_no_finding():
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_recursive_schemas_terminate():
    def recursive(d: dict[str, Any]) -> None:
        _schemas(d)["Item"]["properties"]["children"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Item"},
        }

    old = _changed(recursive)
    new = _changed(lambda d: (recursive(d), _schemas(d)["Item"]["required"].remove("name")))

    findings = breaking_changes(old, new)

    assert {f.rule for f in findings} == {"response-property-became-optional"}
    assert any("children[].name" in f.detail for f in findings)


@pytest.mark.parametrize(
    "old, new, major",
    [
        ("1.2.0", "2.0.0", True),
        ("1.2.0", "1.9.0", False),
        ("v1", "v2", True),
        ("1.0", "1.0", False),
        ("2.0.0", "1.0.0", False),
        ("", "2.0.0", False),
        ("1.0.0", "banana", False),
    ],
)
def test_major_bump(old, new, major):
    assert is_major_bump(old, new) is major


def test_breaking_change_is_allowed_only_with_a_major_bump():
    def shrink(d: dict[str, Any]) -> None:
        _schemas(d)["ItemIn"]["properties"]["name"]["maxLength"] = 10

    minor = judge(BASE, _changed(lambda d: (shrink(d), d["info"].update(version="1.3.0"))))
    major = judge(BASE, _changed(lambda d: (shrink(d), d["info"].update(version="2.0.0"))))

    assert not minor.allowed
    report = minor.report("items")
    assert (
        "request-property-max-length-decreased: POST /items: body.name: maxLength 200 -> 10"
        in report
    )
    assert "bump the major part of info.version" in report
    assert major.allowed
    assert "bump the major" not in major.report("items")
