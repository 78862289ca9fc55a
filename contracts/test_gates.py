"""The reference monorepo's own gate: every one of its services with an API is under contract.

(The drift, breaking-change and generated tests come with harness: `--harness-suite contracts`.)
"""

from __future__ import annotations

# processes of the stack with no API, only a health port
WORKERS = {"filings-worker"}


def test_every_service_is_under_contract(harness_config, service_urls):
    assert sorted(service.name for service in harness_config.under_contract()) == sorted(
        set(service_urls) - WORKERS
    )
