"""The contract gates, once per service with `openapi` set.

drift: the live OpenAPI document equals the checked-in contract.
breaking change: the checked-in contract breaks nothing of the base revision's, unless its
info.version has a new major number. (Conformance of every response runs inside
`service_clients`: see harness.contracts._conformance.)
"""

from __future__ import annotations

import pytest

from harness.contracts import drift, fetch_document, load_contract, verdict_since


def test_drift(contract_service, harness_config, service_urls):
    service = harness_config.services[contract_service]
    path = harness_config.contract_path(contract_service)
    live = fetch_document(service_urls[contract_service], service.openapi)

    difference = drift(load_contract(path), live, contract_service)

    if difference:
        pytest.fail(
            f"{contract_service}: the live API differs from its contract {path}:\n{difference}\n"
            "If the change is intended: `invoke contracts.export`, review the diff, commit it.",
            pytrace=False,
        )


def test_breaking_change(contract_service, harness_config, contracts_base):
    verdict = verdict_since(harness_config, contract_service, contracts_base)

    if verdict is not None and not verdict.allowed:
        label = f"{contract_service} since {contracts_base[:12]}"
        pytest.fail(verdict.report(label), pytrace=False)
