"""Generated tests: schemathesis over each service's checked-in contract.

One test per operation of every service with `openapi` set, made from `[tool.harness]`
as pytest imports this module: a fixed seed (`tool.harness.contracts.seed`), an example
budget per operation (`contracts.examples`, or the service's `generated_examples`), every
check on every response, and a failure lists every check that failed, not only the first.
A check a contract cannot satisfy is named in the service's `contract_gaps` with the
reason, turned off for that service only, and reported once as a JUnit suite property.

A request the contract calls invalid must be refused: with a 4xx, or with one of
`contracts.invalid_statuses` when set (say [400, 422]: then a 404 or 409 for it means the
service looked things up before it validated, and a rule enforced after that goes unchecked).
Bodies satisfying none of an anyOf/oneOf are sent too (`harness.contracts._negations`).
Hypothesis' "too slow" health check is off: it guards against slow data generation, which
a loaded machine fakes, not slow services.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from harness.config import ServiceConfig
from harness.contracts import (
    load_contract,
    refuse_without_alternatives,
    resolve_gaps,
    with_framework_statuses,
)
from harness.exceptions import ContractError
from harness.pytest.plugin import collecting_config

try:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
except ImportError:  # the `contracts` extra is not installed
    schemathesis = None  # type: ignore[assignment]

ANY_CLIENT_ERROR = tuple(range(400, 500))
CASES_RUN: Counter[str] = Counter()
_config = collecting_config()
_gaps = {
    s.name: resolve_gaps(s.name, s.contract_gaps) if schemathesis else {}
    for s in _config.under_contract()
}


def _generated_test(service: ServiceConfig) -> Any:
    assert schemathesis is not None
    settings = SchemathesisConfig.from_dict(
        {
            "seed": _config.contracts.seed,
            "generation": {
                "max-examples": service.generated_examples or _config.contracts.examples
            },
            "suppress-health-check": ["too_slow"],
            "checks": {
                **_rejection(_config.contracts.invalid_statuses),
                **{check: {"enabled": False} for check in _gaps[service.name]},
            },
        }
    )
    document = with_framework_statuses(
        load_contract(_config.contract_path(service.name)), service.framework_statuses
    )
    schema = schemathesis.openapi.from_dict(document, config=settings)

    @schema.parametrize()
    def test(case, service_urls):
        CASES_RUN[service.name] += 1
        case.call_and_validate(base_url=service_urls[service.name])
        if "negative_data_rejection" not in _gaps[service.name]:
            refused = _config.contracts.invalid_statuses or ANY_CLIENT_ERROR
            refuse_without_alternatives(case, service_urls[service.name], refused)

    return test


def _rejection(statuses: tuple[int, ...] | None) -> dict[str, Any]:
    """negative_data_rejection's settings: schemathesis' own, or only `statuses` refuse."""
    if statuses is None:
        return {}
    return {"negative_data_rejection": {"expected-statuses": [str(s) for s in statuses]}}


def _failing_test(reason: str) -> Any:
    def test():
        pytest.fail(reason, pytrace=False)

    return test


@pytest.fixture(scope="module", autouse=True)
def _report_gaps_and_cases(record_testsuite_property):
    for service, gaps in _gaps.items():
        for check, reason in gaps.items():
            record_testsuite_property(f"harness.contract_gap.{service}.{check}", reason)
    yield
    for service, count in sorted(CASES_RUN.items()):
        record_testsuite_property(f"harness.generated_cases.{service}", count)


for _service in _config.under_contract():
    if schemathesis is None:
        _made = _failing_test(
            "the generated contract tests need schemathesis: install harness[contracts]"
        )
    else:
        try:
            _made = _generated_test(_service)
        except ContractError as _error:  # the drift gate says the same, next to the fix
            _made = _failing_test(str(_error))
    globals()[f"test_{_service.name.replace('-', '_')}"] = _made
