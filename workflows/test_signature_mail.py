"""signature e-mails a block through the mail API, a stub of the run (`stubs["mail"]`):
success, the API's refusals, errors, rate limits, time-outs and resets, and what signature
sends (headers, one idempotency key over every attempt, the API key kept out of its log).

Each test sends signature the stub's scope header, which signature forwards as its
`X-Correlation-ID`: the stub's script and journal are this test's alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from harness.stack import Stack

SIGNATURE = {"name": "Ada Counsel", "bar_number": "24012345", "email": "ada@Example.COM"}


@pytest.fixture
def mail(stubs):
    return stubs["mail"]


@pytest.fixture
def signature(service_clients):
    return service_clients["signature"]


@pytest.fixture
def api_key(harness_config) -> str:
    return harness_config.services["signature"].env["MAIL_API_KEY"]


def email(signature, mail, **headers: str) -> httpx.Response:
    return signature.post("/signature/email", json=SIGNATURE, headers={**mail.headers, **headers})


def keys(mail) -> list[str | None]:
    return [request.header("Idempotency-Key") for request in mail.requests]


def test_the_block_is_sent_once_to_the_attorney(signature, mail, api_key):
    mail.respond(202, json={"id": "msg_1", "status": "queued"})

    response = email(signature, mail)

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["to"], body["message_id"], body["attempts"]) == ("ada@example.com", "msg_1", 1)
    [sent] = mail.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.header("Authorization") == f"Bearer {api_key}"
    assert sent.header("Idempotency-Key") == body["idempotency_key"]
    assert sent.header("X-Correlation-ID") == mail.scope
    block = signature.post("/signature", json=SIGNATURE).json()
    assert sent.json() == {
        "from": "filings@drafting.example",
        "to": ["ada@example.com"],
        "subject": "Your signature block",
        "text": block["text"],
    }
    mail.check_recorded()  # the shape the recorded exchange with the real API has


def test_the_callers_idempotency_key_is_the_one_sent(signature, mail):
    mail.respond(202, json={"id": "msg_2"})

    response = email(signature, mail, **{"Idempotency-Key": "draft-7-signature"})

    assert response.json()["idempotency_key"] == "draft-7-signature"
    assert keys(mail) == ["draft-7-signature"]


def test_a_refusal_is_a_502_naming_it_and_not_retried(signature, mail):
    mail.respond(422, json={"error": "recipient rejected"})

    response = email(signature, mail)

    assert response.status_code == 502
    assert response.json() == {
        "detail": 'the mail API refused the message: 422 {"error": "recipient rejected"}'
    }
    assert len(mail.requests) == 1


def test_server_errors_are_retried_with_the_same_key_until_sent(signature, mail):
    mail.respond(500, times=1)
    mail.respond(503, times=1)
    mail.respond(202, json={"id": "msg_3"})

    response = email(signature, mail)

    assert response.status_code == 202
    assert response.json()["attempts"] == 3
    assert len(set(keys(mail))) == 1 and len(keys(mail)) == 3  # one message, three attempts


def test_server_errors_on_every_attempt_are_a_503_after_three(signature, mail):
    mail.respond(503, times=10)

    response = email(signature, mail)

    assert response.status_code == 503
    assert response.json() == {"detail": "the mail API answered 503 after 3 attempt(s)"}
    assert len(mail.requests) == 3


def test_a_429_is_retried_after_its_retry_after(signature, mail):
    mail.respond(429, headers={"Retry-After": "1"})
    mail.respond(202, json={"id": "msg_4"})

    started = time.monotonic()
    response = email(signature, mail)
    took = time.monotonic() - started

    assert response.status_code == 202
    assert response.json()["attempts"] == 2
    assert len(set(keys(mail))) == 1
    assert took >= 1.0  # it waited the second it was asked (a lower bound: never a deadline)


def test_a_429_asking_for_more_than_two_seconds_is_a_503_at_once(signature, mail):
    mail.respond(429, headers={"Retry-After": "120"}, times=3)

    response = email(signature, mail)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "the mail API is limiting the rate (429, Retry-After 120) after 1 attempt(s)"
    }
    assert len(mail.requests) == 1


def test_an_api_slower_than_the_timeout_is_a_504_after_three_attempts(service_instance, mail):
    url = service_instance("signature", MAIL_TIMEOUT="0.5")
    mail.respond(202, json={"id": "late"}, delay=600, times=3)  # never in time

    response = httpx.post(
        f"{url}/signature/email", json=SIGNATURE, headers=mail.headers, timeout=60
    )

    assert response.status_code == 504
    assert response.json() == {"detail": "the mail API did not answer in 0.5 s (3 attempt(s))"}
    assert len(mail.requests) == 3 and len(set(keys(mail))) == 1


@pytest.mark.parametrize("fault", ["reset", "drop"])
def test_a_connection_broken_before_the_answer_is_retried_with_the_same_key(signature, mail, fault):
    getattr(mail, fault)()
    mail.respond(202, json={"id": "msg_5"})

    response = email(signature, mail)

    assert response.status_code == 202
    assert response.json()["attempts"] == 2
    assert len(set(keys(mail))) == 1 and len(keys(mail)) == 2


def test_connections_reset_on_every_attempt_are_a_503_naming_it(signature, mail):
    mail.reset(times=3)

    response = email(signature, mail)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "the mail API could not be reached or broke off (ReadError, 3 attempt(s))"
    }


def test_the_api_key_never_reaches_the_log(signature, mail, api_key, harness_config, harness_stack):
    mail.respond(503)
    mail.respond(401, json={"error": "bad key"})
    response = email(signature, mail)
    assert response.status_code == 502

    state = Stack(harness_config, harness_stack.run_id).run.load()
    log = Path(state.services["signature"].log_path).read_text()

    key = keys(mail)[0]
    assert f"attempt 2, key {key}: 401" in log  # the attempts were logged
    assert api_key not in log
