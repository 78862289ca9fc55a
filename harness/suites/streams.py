"""The stream contract gates, once per service with `asyncapi` set (none without one).

valid: the checked-in stream contract is an AsyncAPI document by the specification's own
JSON Schema.
drift: the live AsyncAPI document equals the checked-in stream contract.
breaking change: the checked-in stream contract breaks nothing of the base revision's (a
channel or message removed, a payload field removed, retyped, made optional or nullable),
unless its info.version has a new major number. (Conformance of every received message
runs inside `service_streams`: see harness.contracts._streams.)
"""

from __future__ import annotations

import pytest

from harness.contracts import (
    asyncapi_problems,
    drift,
    fetch_document,
    load_contract,
    stream_verdict_since,
)
from harness.pytest.plugin import collecting_config

STREAM_SERVICES = [service.name for service in collecting_config().under_stream_contract()]

if STREAM_SERVICES:  # no test at all (not a skipped one) in a project without streams

    @pytest.mark.parametrize("stream_service", STREAM_SERVICES)
    def test_stream_contract_is_valid_asyncapi(stream_service, harness_config):
        path = harness_config.stream_contract_path(stream_service)

        problems = asyncapi_problems(load_contract(path))

        if problems:
            pytest.fail(
                f"{stream_service}: {path} is not a valid AsyncAPI document:\n"
                + "\n".join(problems),
                pytrace=False,
            )

    @pytest.mark.parametrize("stream_service", STREAM_SERVICES)
    def test_stream_drift(stream_service, harness_config, service_urls):
        service = harness_config.services[stream_service]
        path = harness_config.stream_contract_path(stream_service)
        live = fetch_document(service_urls[stream_service], service.asyncapi)

        difference = drift(load_contract(path), live, f"{stream_service} streams")

        if difference:
            pytest.fail(
                f"{stream_service}: the live streams differ from their contract {path}:\n"
                f"{difference}\n"
                "If the change is intended: `invoke contracts.export`, review the diff, "
                "commit it.",
                pytrace=False,
            )

    @pytest.mark.parametrize("stream_service", STREAM_SERVICES)
    def test_stream_breaking_change(stream_service, harness_config, contracts_base):
        verdict = stream_verdict_since(harness_config, stream_service, contracts_base)

        if verdict is not None and not verdict.allowed:
            label = f"{stream_service} streams since {contracts_base[:12]}"
            pytest.fail(verdict.report(label), pytrace=False)
