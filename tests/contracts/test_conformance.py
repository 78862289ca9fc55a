"""Responses checked against a contract: operation, status, content type, body, headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.contracts._conformance import ContractValidator
from harness.contracts._documents import with_framework_statuses
from harness.exceptions import ContractError, ContractViolation

CONTRACT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "items", "version": "1.0.0"},
    "paths": {
        "/items/{item_id}": {
            "get": {
                "responses": {
                    "200": {
                        "description": "the item",
                        "headers": {"ETag": {"required": True, "schema": {"type": "string"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                        },
                    },
                    "4XX": {"description": "error", "content": {"application/json": {}}},
                }
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/items/new": {
            "get": {"responses": {"200": {"description": "form", "content": {"text/*": {}}}}}
        },
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["id"],
            }
        }
    },
}


def _response(method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request(method, f"http://svc{path}"), **kwargs)


@pytest.fixture
def validator() -> ContractValidator:
    return ContractValidator(CONTRACT, "items")


def test_conforming_response_has_no_problem(validator):
    response = _response("GET", "/items/7", 200, json={"id": 7, "tags": []}, headers={"ETag": "x"})

    assert validator.problems(response) == []
    assert validator.checked == 1


def test_body_breaking_the_schema_names_each_place(validator):
    response = _response("GET", "/items/7", 200, json={"tags": ["a", 3]}, headers={"ETag": "x"})

    assert validator.problems(response) == [
        "body: 'id' is a required property",
        "body.tags[1]: 3 is not of type 'string'",
    ]


@pytest.mark.parametrize(
    "response, problem",
    [
        (_response("GET", "/elsewhere", 200, json={}), "GET /elsewhere is not an operation"),
        (_response("PUT", "/items/7", 200, json={}), "PUT /items/7 is not an operation"),
        (
            _response("GET", "/items/7", 500, json={}),
            "status 500 is not documented (documented: 200, 4XX)",
        ),
        (_response("GET", "/items/7", 200, json={"id": 1}), "required header 'ETag' is missing"),
        (
            _response("GET", "/items/7", 200, text="7", headers={"ETag": "x"}),
            "content type 'text/plain'",
        ),
        (
            _response("DELETE", "/items/7", 204, text="ok"),
            "a body of 2 bytes where none is documented",
        ),
        (
            _response(
                "GET",
                "/items/7",
                200,
                content=b"{",
                headers={"ETag": "x", "Content-Type": "application/json"},
            ),
            "body is not valid JSON",
        ),
    ],
)
def test_each_kind_of_non_conformance_is_named(validator, response, problem):
    problems = validator.problems(response)

    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_ranges_wildcards_and_literal_paths(validator):
    assert validator.problems(_response("GET", "/items/7", 404, json={"detail": "x"})) == []
    assert validator.problems(_response("GET", "/items/new", 200, text="<form>")) == []


def test_hook_raises_a_violation_naming_service_request_and_fix(validator):
    hook = validator.hook()

    with pytest.raises(ContractViolation) as raised:
        hook(_response("GET", "/items/7", 500, json={}))

    message = str(raised.value)
    assert message.startswith("items: GET /items/7 answered 500, which breaks the checked-in")
    assert "invoke contracts.export" in message
    assert raised.value.problems == ["status 500 is not documented (documented: 200, 4XX)"]


def test_an_undocumented_status_says_how_to_document_it_or_declare_it():
    with pytest.raises(ContractViolation) as raised:
        ContractValidator(CONTRACT, "items").hook()(_response("DELETE", "/items/7", 422, json={}))

    message = str(raised.value)
    assert "document it on the operation (FastAPI: `responses={422: {...}}`" in message
    assert "list it in tool.harness.services.items.framework_statuses" in message


def test_framework_statuses_are_documented_on_every_operation_without_a_body_promise():
    declared = ContractValidator(with_framework_statuses(CONTRACT, (405, 422)), "items")

    assert declared.problems(_response("DELETE", "/items/7", 422)) == []
    assert declared.problems(_response("GET", "/items/new", 405)) == []
    assert "422" not in CONTRACT["paths"]["/items/{item_id}"]["delete"]["responses"]


def test_openapi_3_0_is_refused_with_the_reason():
    with pytest.raises(ContractError, match=r"need an OpenAPI 3\.1 document, got '3\.0\.3'"):
        ContractValidator({**CONTRACT, "openapi": "3.0.3"}, "items")


def _listing(order: Any) -> ContractValidator:
    """A contract whose GET /items answers a list documented as sorted by `order`."""
    listing = {
        "get": {
            "x-order": order,
            "responses": {"200": {"description": "items", "content": {"application/json": {}}}},
        }
    }
    return ContractValidator({**CONTRACT, "paths": {"/items": listing}}, "items")


def test_a_list_in_its_documented_order_conforms():
    body = [{"case": 1, "pos": 1}, {"case": 1, "pos": 2}, {"case": 2, "pos": 1}]

    assert _listing(["case", "pos"]).problems(_response("GET", "/items", 200, json=body)) == []


def test_a_list_out_of_its_documented_order_names_the_first_pair_out_of_place():
    body = [{"id": 1}, {"id": 3}, {"id": 2}]

    problems = _listing(["id"]).problems(_response("GET", "/items", 200, json=body))

    assert problems == [
        "body is not in its documented order (x-order: id): body[1] (id=3) comes before "
        "body[2] (id=2)"
    ]


def test_a_descending_field_is_named_with_a_minus():
    validator = _listing(["-saved", "id"])

    newest_first = [{"saved": "b", "id": 1}, {"saved": "a", "id": 1}, {"saved": "a", "id": 2}]
    oldest_first = list(reversed(newest_first))
    assert validator.problems(_response("GET", "/items", 200, json=newest_first)) == []
    assert validator.problems(_response("GET", "/items", 200, json=oldest_first)) != []


def test_an_item_without_a_field_the_order_sorts_by_is_a_problem():
    problems = _listing(["pos"]).problems(_response("GET", "/items", 200, json=[{"id": 1}]))

    assert problems == ["body[0] has no pos, which x-order sorts by"]


@pytest.mark.parametrize("order", ["id", [""], [3]])
def test_a_malformed_order_is_one_line_naming_the_operation_and_the_form(order):
    with pytest.raises(ContractError) as raised:
        _listing(order)

    assert str(raised.value) == (
        "items: GET /items: x-order must be a list of item field names ('-name' for "
        f"descending), got {order!r}"
    )
