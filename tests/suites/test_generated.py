"""The shipped generated contract tests (harness/suites/generated.py), run on a fixture service."""

from __future__ import annotations

import json
import runpy

from conftest import APP, app_command

SLOW_GENERATION = """
import time

import hypothesis.internal.conjecture.data as conjecture_data
import schemathesis
from hypothesis import strategies as st


class LoadedClock:
    \"\"\"The clock Hypothesis times its draws with, on a machine where each draw takes 10 s.\"\"\"

    lag = 0.0

    def __getattr__(self, name):
        return getattr(time, name)

    def perf_counter(self):
        return time.perf_counter() + self.lag


clock = conjecture_data.time = LoadedClock()


@schemathesis.hook
def flatmap_case(context, case):
    def drawn_slowly(_):
        clock.lag += 10.0
        return case

    return st.integers().map(drawn_slowly)  # more than one case to draw
"""


def test_slow_data_generation_is_not_a_failure(pytester, monkeypatch):
    """Hypothesis' "too slow" health check guards slow strategies; a busy machine only fakes one."""
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    command = ", ".join(f'"{arg}"' for arg in app_command())
    pytester.makefile(
        ".toml",
        pyproject=(
            "[tool.harness.contracts]\nexamples = 5\n"
            f'[tool.harness.services.api]\ncommand = [{command}]\nopenapi = "/openapi.json"\n'
            # http.server answers 501 to a method it has no handler for
            'contract_gaps = { unsupported_method = "501", not_a_server_error = "501" }\n'
        ),
    )
    pytester.makeconftest(SLOW_GENERATION)
    contract = pytester.mkdir("contracts") / "api.json"
    contract.write_text(json.dumps(runpy.run_path(str(APP))["OPENAPI"]))

    result = pytester.runpytest_subprocess("--harness-suite", "contracts", "-k", "generated")

    assert "FailedHealthCheck" not in result.stdout.str()
    result.assert_outcomes(passed=1, deselected=2)
