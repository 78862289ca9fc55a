"""Contract gaps named as schemathesis names them: a check, a failure title, a code."""

from __future__ import annotations

import pytest

from harness.contracts._gaps import resolve_gaps
from harness.exceptions import ConfigError


def test_a_gap_may_be_a_check_a_printed_title_or_a_code():
    resolved = resolve_gaps(
        "api",
        {
            "positive_data_acceptance": "an upload cannot say 'a .docx'",
            "Undocumented status code": "the framework's own statuses",
            "ST107": "headers set by the proxy",
        },
    )

    assert resolved == {
        "positive_data_acceptance": "an upload cannot say 'a .docx'",
        "status_code_conformance": "the framework's own statuses",
        "response_headers_conformance": "headers set by the proxy",
    }


def test_an_unknown_gap_is_one_line_naming_the_key_and_the_closest_check():
    with pytest.raises(ConfigError) as raised:
        resolve_gaps("api", {"positive_data_aceptance": "typo"})

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("tool.harness.services.api.contract_gaps: 'positive_data_aceptance'")
    assert "did you mean 'positive_data_acceptance'?" in message
