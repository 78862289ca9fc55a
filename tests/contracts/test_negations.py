"""Bodies satisfying no branch of an anyOf/oneOf, which schemathesis' negations never make."""

from __future__ import annotations

from harness.contracts._negations import without_alternatives

DRAFT_UPDATE = {
    "type": "object",
    "required": ["version"],
    "properties": {"version": {"type": "integer"}, "title": {"type": "string"}},
    "anyOf": [{"required": ["title"]}, {"required": ["sections"]}],
}
DOCUMENT = {"components": {"schemas": {"DraftUpdate": DRAFT_UPDATE}}}


def test_every_property_a_branch_requires_is_removed_the_rest_kept():
    body = {"version": 3, "title": "New", "sections": []}

    assert without_alternatives(DRAFT_UPDATE, body, DOCUMENT) == {"version": 3}


def test_references_are_followed_in_the_document():
    body = {"version": 1, "title": "New"}
    schema = {"$ref": "#/components/schemas/DraftUpdate"}

    assert without_alternatives(schema, body, DOCUMENT) == {"version": 1}


def test_one_of_counts_as_alternatives_too():
    schema = {"oneOf": [{"required": ["email"]}, {"required": ["phone"]}]}

    assert without_alternatives(schema, {"name": "A", "phone": "1"}, {}) == {"name": "A"}


def test_nothing_when_a_branch_requires_nothing_or_there_are_no_branches():
    holds_anyway = {"anyOf": [{"required": ["title"]}, {"type": "object"}]}

    assert without_alternatives(holds_anyway, {"title": "x"}, {}) is None
    assert without_alternatives({"required": ["title"]}, {"title": "x"}, {}) is None


def test_nothing_for_a_body_that_is_not_an_object():
    assert without_alternatives(DRAFT_UPDATE, [1, 2], DOCUMENT) is None
