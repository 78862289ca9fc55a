"""A negative body schemathesis does not make: one that satisfies no branch of an anyOf/oneOf.

schemathesis negates one keyword at a time, so a body schema such as
`{"required": ["version"], "anyOf": [{"required": ["title"]}, {"required": ["sections"]}]}`
("change the title, the sections or both") never gets the plain `{"version": 1}` that a
service enforcing the rule in its code, not in its validation, might wrongly accept.
`refuse_without_alternatives(case, url, statuses)` sends that body beside a generated one.
"""

from __future__ import annotations

from typing import Any

_BRANCHES = ("anyOf", "oneOf")


def without_alternatives(schema: dict[str, Any], body: Any, document: dict[str, Any]) -> Any:
    """`body` less every property a branch of the schema's anyOf/oneOf requires, so that it
    satisfies none of them; None when there are no such branches (or one requires nothing),
    or `body` is not an object. `$ref`s resolve in `document`."""
    schema = _resolved(schema, document)
    branches = [_resolved(branch, document) for key in _BRANCHES for branch in schema.get(key, [])]
    if not branches or not isinstance(body, dict):
        return None
    if any(not branch.get("required") for branch in branches):
        return None  # that branch holds for any object: nothing removed makes it fail
    named = {name for branch in branches for name in branch["required"]}
    return {name: value for name, value in body.items() if name not in named}


def refuse_without_alternatives(case: Any, base_url: str, statuses: tuple[int, ...]) -> None:
    """Send a positive schemathesis `case` again without its anyOf/oneOf alternatives; an
    AssertionError unless the answer is one of `statuses` (refused as invalid)."""
    if case.meta is None or case.meta.generation.mode.is_negative or case.media_type is None:
        return
    operation = case.operation
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get(case.media_type, {}).get("schema")
    body = (
        None
        if schema is None
        else without_alternatives(schema, case.body, operation.schema.raw_schema)
    )
    if body is None:
        return
    negated = operation.Case(
        path_parameters=case.path_parameters,
        query=case.query,
        headers=case.headers,
        body=body,
        media_type=case.media_type,
    )
    response = negated.call(base_url=base_url)
    if response.status_code not in statuses:
        raise AssertionError(
            f"{operation.method.upper()} {operation.path} answered {response.status_code} to "
            f"{body!r}, a body satisfying none of its schema's anyOf/oneOf branches; the contract "
            f"calls it invalid: refuse it ({_statuses(statuses)}) before anything else runs"
        )


def _statuses(statuses: tuple[int, ...]) -> str:
    if statuses == tuple(range(400, 500)):
        return "any 4xx"
    return ", ".join(map(str, statuses))


def _resolved(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """`schema`, following local `$ref`s (`#/components/schemas/X`) in `document`."""
    seen: set[str] = set()
    while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        reference = schema["$ref"]
        if reference in seen:
            break
        seen.add(reference)
        target: Any = document
        for token in reference[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema
