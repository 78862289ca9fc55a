"""The shipped generated contract tests (harness/suites/generated.py), run on fixture services:
slow data generation is no failure; a service keeping what its contract calls invalid is."""

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


def generated_run(pytester, mode: str = "healthy", examples: int = 30):
    """The shipped generated suite against the fixture service in `mode`, its contract the
    one the fixture serves in that mode."""
    command = ", ".join(f'"{arg}"' for arg in app_command(mode))
    pytester.makefile(
        ".toml",
        pyproject=(
            f"[tool.harness.contracts]\nexamples = {examples}\n"
            f'[tool.harness.services.api]\ncommand = [{command}]\nopenapi = "/openapi.json"\n'
            # http.server answers 501 to a method it has no handler for
            'contract_gaps = { unsupported_method = "501", not_a_server_error = "501" }\n'
        ),
    )
    fixture = runpy.run_path(str(APP))
    contract = fixture["ITEMS_OPENAPI"] if mode.endswith("-items") else fixture["OPENAPI"]
    (pytester.mkdir("contracts") / "api.json").write_text(json.dumps(contract))
    return pytester.runpytest_subprocess("--harness-suite", "contracts", "-k", "generated")


def test_slow_data_generation_is_not_a_failure(pytester, monkeypatch):
    """Hypothesis' "too slow" health check guards slow strategies; a busy machine only fakes one."""
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    pytester.makeconftest(SLOW_GENERATION)

    result = generated_run(pytester, examples=5)

    assert "FailedHealthCheck" not in result.stdout.str()
    result.assert_outcomes(passed=1, deselected=2)


def test_a_service_that_keeps_what_its_contract_calls_invalid_fails(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)

    result = generated_run(pytester, "lax-items")

    result.assert_outcomes(failed=1, deselected=2)
    assert "Schema-violating request accepted" in result.stdout.str()


def test_the_same_service_refusing_invalid_items_passes(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)

    generated_run(pytester, "strict-items").assert_outcomes(passed=1, deselected=2)
