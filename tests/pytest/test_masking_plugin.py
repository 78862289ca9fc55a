"""No password in what pytest shows or writes to JUnit, however a test failed."""

from __future__ import annotations

URL = "postgresql://app:hunter2@127.0.0.1:5432/postgres"
TESTS = f"""
import pytest

URL = {URL!r}


def connect(conninfo):
    raise ConnectionError("cannot reach " + conninfo)


def test_fails_in_a_call_whose_argument_is_the_url():
    print("connecting to", URL)
    connect(URL)


def test_fails_comparing_urls():
    assert URL == "postgresql://app@127.0.0.1:5432/postgres"


@pytest.fixture
def server():
    connect("host=127.0.0.1 password=hunter2")


def test_errors_in_setup(server):
    pass
"""


def test_tracebacks_arguments_output_and_junit_are_masked(pytester):
    pytester.makepyfile(test_leaks=TESTS)

    result = pytester.runpytest_subprocess("-rA", "--tb=long", "--junitxml=junit.xml")

    result.assert_outcomes(failed=2, errors=1)
    junit = (pytester.path / "junit.xml").read_text()
    output = result.stdout.str() + result.stderr.str()
    for text in (output, junit):
        assert "hunter2" not in text
        assert "postgresql://app:***@127.0.0.1:5432/postgres" in text
        assert "password=***" in text
    assert "conninfo = 'postgresql://app:***@" in output  # the function argument pytest shows
