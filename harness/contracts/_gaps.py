"""Contract gaps: schemathesis checks a contract cannot satisfy, turned off per service.

A gap may be named as schemathesis names it anywhere: the check (`positive_data_acceptance`),
the failure's title as its report prints it (`Schema-valid request rejected`), or the
failure's code (`ST202`). Each resolves to the checks that report it.
"""

from __future__ import annotations

from harness.config import did_you_mean
from harness.exceptions import ConfigError


def resolve_gaps(service: str, gaps: dict[str, str]) -> dict[str, str]:
    """Check name -> reason, for `tool.harness.services.<service>.contract_gaps`."""
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.failure_codes import FAILURE_CLASSES

    load_all_checks()
    names: dict[str, tuple[str, ...]] = {name: (name,) for name in CHECKS.get_all_names()}
    for failure in FAILURE_CLASSES:
        if failure.checks:
            names[failure.code.lower()] = failure.checks
            names[failure.kind_title.lower()] = failure.checks
    resolved: dict[str, str] = {}
    for given, reason in gaps.items():
        checks = names.get(given) or names.get(given.lower())
        if checks is None:
            raise ConfigError(
                f"tool.harness.services.{service}.contract_gaps: {given!r} is not a schemathesis "
                f"check, failure title or code{did_you_mean(given, CHECKS.get_all_names())}; "
                f"checks: {', '.join(CHECKS.get_all_names())}"
            )
        resolved.update(dict.fromkeys(checks, reason))
    return resolved
