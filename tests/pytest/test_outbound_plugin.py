"""The outbound guard in a pytest session: a test during which a service of the stack tried
to reach beyond the machine fails, naming what was refused; the other tests pass."""

from __future__ import annotations

from conftest import command_toml, write_pyproject

TESTS = """
import json, urllib.request


def outcome(service_urls, target):
    url = service_urls["api"] + "/connect?to=" + target
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)["outcome"]


def test_reaches_out(service_urls):
    outcome(service_urls, "192.0.2.1:9")  # the service swallows the error; the guard does not


def test_stays_home(service_urls):
    assert outcome(service_urls, service_urls["api"].split("//")[1]) == "connected"
"""


def test_a_test_during_which_a_service_reached_out_fails(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_pyproject(pytester.path, f"[tool.harness.services.api]\ncommand = {command_toml()}\n")
    pytester.makepyfile(test_reach=TESTS)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_reaches_out*",
            "*harness: a process of the stack tried to reach beyond 127.0.0.1 during this test*",
            "*pid * connect to 192.0.2.1:9",
        ]
    )
