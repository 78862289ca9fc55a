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


ITEM = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 3}},
    "required": ["name"],
    "additionalProperties": False,
}
JSON_OF = {"application/json": {"schema": ITEM}}
ITEMS_CONTRACT = {
    "openapi": "3.1.0",
    "info": {"title": "items", "version": "1.0.0"},
    "paths": {
        "/items": {
            "post": {
                "requestBody": {"required": True, "content": JSON_OF},
                "responses": {
                    "201": {"description": "kept", "content": JSON_OF},
                    "422": {"description": "refused", "content": {"application/json": {}}},
                },
            }
        }
    },
}
ITEMS_SERVER = """
import argparse, json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STRICT = {strict}
OPENAPI = json.loads({contract!r})


def valid(body):
    return (
        isinstance(body, dict) and set(body) == {{"name"}}
        and isinstance(body["name"], str) and len(body["name"]) >= 3
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer(200, OPENAPI if self.path == "/openapi.json" else {{"status": "ok"}})

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if STRICT and not valid(body):
            self.answer(422, {{"detail": "invalid item"}})
        else:
            self.answer(201, {{"name": "kept"}})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int)
ThreadingHTTPServer(("127.0.0.1", parser.parse_args().port), Handler).serve_forever()
"""


def generated_run(pytester, strict: bool):
    """The generated suite against a service keeping items, strict or not about its
    contract's rules (a name of at least 3 characters, nothing else)."""
    contract = json.dumps(ITEMS_CONTRACT)
    pytester.makepyfile(items=ITEMS_SERVER.format(strict=strict, contract=contract))
    pytester.makefile(
        ".toml",
        pyproject=(
            "[tool.harness.contracts]\nexamples = 30\n"
            "[tool.harness.services.api]\n"
            'command = ["{python}", "items.py", "--port", "{port}"]\n'
            'health = "/health"\nopenapi = "/openapi.json"\n'
            'contract_gaps = { unsupported_method = "501", not_a_server_error = "501" }\n'
        ),
    )
    (pytester.mkdir("contracts") / "api.json").write_text(contract)
    return pytester.runpytest_subprocess("--harness-suite", "contracts", "-k", "generated")


def test_a_service_that_keeps_what_its_contract_calls_invalid_fails(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)

    result = generated_run(pytester, strict=False)

    result.assert_outcomes(failed=1, deselected=2)
    assert "Schema-violating request accepted" in result.stdout.str()


def test_the_same_service_refusing_invalid_items_passes(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)

    generated_run(pytester, strict=True).assert_outcomes(passed=1, deselected=2)
