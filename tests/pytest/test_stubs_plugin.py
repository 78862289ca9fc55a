"""The `stubs` fixture (`harness.pytest.stubs`) against the stub server of a real stack: a
scope per test (script and journal gone after it), xdist workers apart, a stub that is not
declared named as such."""

from __future__ import annotations

import json

from conftest import app_command, command_toml, write_pyproject
from harness.config._project import parse_config
from harness.stack._stack import Stack

TESTS = """
import json, os, pathlib

import httpx


def post(stub, **kwargs):
    return httpx.post(stub.url + "/v1/messages", json={}, trust_env=False, timeout=30, **kwargs)


def test_first(stubs):
    mail = stubs["mail"]
    mail.respond(500, times=5)
    assert post(mail, headers=mail.headers).status_code == 500
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    pathlib.Path(f"first-{worker}.json").write_text(
        json.dumps({"scope": mail.scope, "paths": [r.path for r in mail.requests]})
    )


def test_second(stubs):
    mail = stubs["mail"]
    assert mail.requests == []  # first's journal was its own
    assert post(mail, headers=mail.headers).status_code == 501  # and so was its script


def test_undeclared(stubs):
    stubs["payments"]
"""


def write_project(pytester) -> None:
    write_pyproject(
        pytester.path,
        f"[tool.harness.services.api]\ncommand = {command_toml()}\n"
        'depends_on = ["mail"]\n[tool.harness.stubs.mail]\n',
    )
    pytester.makepyfile(test_mail=TESTS)


def test_each_test_has_a_scope_of_its_own_and_an_undeclared_stub_is_named(pytester, monkeypatch):
    monkeypatch.delenv("HARNESS_RUN", raising=False)
    write_project(pytester)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*KeyError: \"no stub 'payments' in [[]tool.harness.stubs[]]; stubs: [[]'mail'[]]\""]
    )
    first = json.loads((pytester.path / "first-main.json").read_text())
    assert first["scope"].startswith("main-")
    assert first["paths"] == ["/v1/messages"]
    assert list((pytester.path / ".harness" / "runs").iterdir()) == []  # the stub went too


def test_two_xdist_workers_on_one_stub_see_only_their_own(pytester, monkeypatch):
    write_project(pytester)
    services = {"api": {"command": app_command(), "depends_on": ["mail"]}}
    config = parse_config({"services": services, "stubs": {"mail": {}}}, root=pytester.path)
    stack = Stack(config, "shared")  # one stack for both workers, as the Nox sessions run it
    stack.up("sqlite", auto_ports=True, detach=True)
    try:
        monkeypatch.setenv("HARNESS_RUN", "shared")

        result = pytester.runpytest_subprocess("-n", "2", "--dist", "each", "-k", "not undeclared")

        result.assert_outcomes(passed=4)
        firsts = [json.loads(p.read_text()) for p in pytester.path.glob("first-gw*.json")]
        assert sorted(first["scope"][:4] for first in firsts) == ["gw0-", "gw1-"]
        assert [first["paths"] for first in firsts] == [["/v1/messages"], ["/v1/messages"]]
    finally:
        assert stack.down().ok
