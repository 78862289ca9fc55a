"""Contracts: OpenAPI (HTTP) and AsyncAPI (WebSocket streams) documents exported, checked
for drift and breaking changes, and every live response and received message validated
against them."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.contracts._breaking import Finding, Verdict, breaking_changes, judge
    from harness.contracts._conformance import ContractValidator
    from harness.contracts._documents import (
        base_revision,
        drift,
        fetch_document,
        load_contract,
        verdict_since,
        with_framework_statuses,
        write_contract,
    )
    from harness.contracts._gaps import resolve_gaps
    from harness.contracts._negations import refuse_without_alternatives
    from harness.contracts._streams import (
        StreamValidator,
        asyncapi_problems,
        judge_stream,
        stream_breaking_changes,
        stream_verdict_since,
    )
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
