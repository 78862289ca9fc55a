"""Stream (AsyncAPI 3.0) contracts: conformance of received messages, breaking changes, drift."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.contracts import (
    StreamValidator,
    asyncapi_problems,
    drift,
    judge_stream,
    load_contract,
)
from harness.exceptions import ContractError, ContractViolation

ROOT = Path(__file__).parents[2]


def _document(title_type: str = "string") -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "api", "version": "1.0.0"},
        "channels": {
            "events": {
                "address": "/items/{item_id}/events",
                "messages": {"Saved": {"$ref": "#/components/messages/Saved"}},
            },
            "news": {"address": "/news", "messages": {}},
        },
        "components": {
            "messages": {
                "Saved": {"name": "saved", "payload": {"$ref": "#/components/schemas/Saved"}}
            },
            "schemas": {
                "Saved": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer"},
                        "type": {"const": "saved", "type": "string"},
                        "title": {"type": title_type},
                    },
                    "required": ["seq", "type", "title"],
                }
            },
        },
    }


def test_a_conforming_message_passes_and_is_counted():
    validator = StreamValidator(_document(), "api")

    assert validator.problems("/items/7/events", {"seq": 1, "type": "saved", "title": "A"}) == []
    assert validator.checked == 1


def test_a_message_that_breaks_its_schema_is_a_violation_naming_the_field():
    validator = StreamValidator(_document(), "api")

    with pytest.raises(ContractViolation, match=r"as saved: message\.title: 3 is not of type"):
        validator.check("/items/7/events", {"seq": 1, "type": "saved", "title": 3})


def test_a_message_on_an_unknown_address_or_of_no_known_type_is_a_violation():
    validator = StreamValidator(_document(), "api")

    assert validator.problems("/elsewhere", {}) == [
        "/elsewhere is not the address of a channel of the contract"
    ]
    assert validator.problems("/items/7/events", {"type": "deleted"}) == [
        "is none of the channel's messages (saved)"
    ]


def test_only_asyncapi_3_is_accepted():
    with pytest.raises(ContractError, match=r"needs an AsyncAPI 3\.x document"):
        StreamValidator({"asyncapi": "2.6.0"}, "api")


def test_a_removed_or_retyped_field_and_a_removed_channel_are_breaking():
    old = _document()
    retyped = _document(title_type="integer")
    removed = copy.deepcopy(old)
    removed["components"]["schemas"]["Saved"]["properties"].pop("title")
    removed["components"]["schemas"]["Saved"]["required"].remove("title")
    removed["channels"].pop("news")

    assert [str(f) for f in judge_stream(old, retyped).findings] == [
        "message-property-type-changed: saved /items/{item_id}/events: message.title: "
        "string -> integer"
    ]
    assert sorted(f.rule for f in judge_stream(old, removed).findings) == [
        "channel-removed",
        "message-required-property-removed",
    ]


def test_a_removed_message_is_breaking_and_a_major_bump_allows_it():
    new = copy.deepcopy(_document())
    new["channels"]["events"]["messages"] = {}

    verdict = judge_stream(_document(), new)
    assert [f.rule for f in verdict.findings] == ["message-removed"] and not verdict.allowed

    new["info"]["version"] = "2.0.0"
    assert judge_stream(_document(), new).allowed


def test_an_added_field_breaks_nothing_and_drift_shows_the_changed_model():
    added = copy.deepcopy(_document())
    added["components"]["schemas"]["Saved"]["properties"]["kind"] = {"type": "string"}

    assert judge_stream(_document(), added).findings == []
    assert '+          "kind": {' in drift(_document(), added, "api streams")
    assert drift(_document(), _document(), "api streams") == ""


def test_the_reference_stream_contract_is_valid_asyncapi():
    assert asyncapi_problems(load_contract(ROOT / "contracts/asyncapi/records.json")) == []


def test_an_invalid_asyncapi_document_is_named_where_it_is_wrong():
    document = load_contract(ROOT / "contracts/asyncapi/records.json")
    broken = copy.deepcopy(document)
    broken["channels"]["caseEvents"]["address"] = 5
    del broken["info"]["title"]

    problems = asyncapi_problems(broken)

    assert any(p.startswith("info: 'title' is a required property") for p in problems), problems
    assert any(p.startswith("channels/caseEvents") for p in problems), problems


def test_an_asyncapi_version_without_a_bundled_schema_is_said_so():
    assert asyncapi_problems({"asyncapi": "2.6.0", "info": {}}) == [
        "asyncapi '2.6.0': harness checks AsyncAPI 3.0.0 documents"
    ]
