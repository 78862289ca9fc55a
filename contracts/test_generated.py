"""Generated tests: schemathesis over each service's checked-in contract.

Fixed seed, a per-service example budget; all of schemathesis' checks run on every
response and a failure reports all the checks that failed, not only the first.
A check the contract cannot satisfy is listed in CONTRACT_GAPS with the reason, turned
off for that service only, and reported once as a JUnit property of the suite.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from harness.config import load_config
from harness.contracts import load_contract

SEED = 20261121
DEFAULT_EXAMPLES = 10
EXAMPLES = {"caselaw": 50}  # per service, where the default does not fit: free text parsing
CONTRACT_GAPS = {
    "ingestion": {
        "positive_data_acceptance": "an upload is `format: binary`, which cannot say "
        "'a .docx file'; other bytes get the documented 400",
    },
}

CASES_RUN: Counter[str] = Counter()
_config = load_config(Path(__file__).resolve().parents[1] / "pyproject.toml")


def _generated_test(service: str):
    gaps = CONTRACT_GAPS.get(service, {})
    settings = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES.get(service, DEFAULT_EXAMPLES)},
            "checks": {check: {"enabled": False} for check in gaps},
        }
    )
    schema = schemathesis.openapi.from_dict(
        load_contract(_config.contract_path(service)), config=settings
    )

    @schema.parametrize()
    def test(case, service_urls):
        CASES_RUN[service] += 1
        case.call_and_validate(base_url=service_urls[service])

    return test


@pytest.fixture(scope="module", autouse=True)
def _report_gaps_and_cases(record_testsuite_property):
    for service, gaps in CONTRACT_GAPS.items():
        for check, reason in gaps.items():
            record_testsuite_property(f"harness.contract_gap.{service}.{check}", reason)
    yield
    for service, count in sorted(CASES_RUN.items()):
        record_testsuite_property(f"harness.generated_cases.{service}", count)


for _service in _config.under_contract():
    globals()[f"test_{_service.name}"] = _generated_test(_service.name)
