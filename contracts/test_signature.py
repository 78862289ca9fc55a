"""signature: an attorney's signature block; bar number and email are validated."""

from __future__ import annotations

import pytest

SIGNATURE = {
    "name": "Ada Counsel",
    "bar_number": "24012345",
    "email": "ada@Example.COM",
    "firm": "Counsel & Partners LLP",
    "address_lines": ["100 Congress Ave", "Austin, Texas 78701"],
    "phone": "(512) 555-0100",
    "role": "Attorney for Defendant",
}


@pytest.fixture
def signature(service_clients):
    return service_clients["signature"]


def test_block_lists_firm_name_bar_number_contacts_and_role(signature):
    response = signature.post("/signature", json=SIGNATURE)

    assert response.status_code == 200
    body = response.json()
    assert body["bar_number"] == "24012345"
    assert body["email"] == "ada@example.com"
    assert body["lines"] == [
        "Respectfully submitted,",
        "",
        "Counsel & Partners LLP",
        "",
        "By: /s/ Ada Counsel",
        "Ada Counsel",
        "State Bar No. 24012345",
        "100 Congress Ave",
        "Austin, Texas 78701",
        "Tel: (512) 555-0100",
        "Email: ada@example.com",
        "ATTORNEY FOR DEFENDANT",
    ]
    assert body["text"] == "\n".join(body["lines"])


def test_minimal_block_defaults_the_role(signature):
    response = signature.post(
        "/signature", json={"name": "Bo Lee", "bar_number": "00000001", "email": "bo@lee.law"}
    )

    assert response.status_code == 200
    lines = response.json()["lines"]
    assert lines[:3] == ["Respectfully submitted,", "", "By: /s/ Bo Lee"]
    assert lines[-1] == "ATTORNEY FOR PLAINTIFF"


@pytest.mark.parametrize("bar_number", ["1234567", "123456789", "1234567a", "١٢٣٤٥٦٧٨", ""])
def test_bar_number_must_be_eight_digits(signature, bar_number):
    response = signature.post("/signature", json={**SIGNATURE, "bar_number": bar_number})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "bar_number"]


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@example.com", "ada@example", "ada @example.com", "a@b_c.com"]
)
def test_malformed_email_is_422(signature, email):
    response = signature.post("/signature", json={**SIGNATURE, "email": email})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


def test_missing_name_is_422(signature):
    payload = {key: value for key, value in SIGNATURE.items() if key != "name"}

    response = signature.post("/signature", json=payload)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


@pytest.mark.parametrize(
    "answer, status",
    [
        ({"status": 202, "json": {"id": "msg_c1"}}, 202),
        ({"status": 400, "json": {"error": "bad recipient"}}, 502),
        ({"status": 429, "headers": {"Retry-After": "3600"}}, 503),
    ],
    ids=["sent", "refused", "rate-limited"],
)
def test_email_answers_as_documented(signature, stubs, answer, status):
    mail = stubs["mail"]
    scripted = dict(answer)  # the parameter stays whole for a rerun
    mail.respond(scripted.pop("status"), **scripted)

    response = signature.post(
        "/signature/email", json={**SIGNATURE, "subject": "Block"}, headers=mail.headers
    )

    assert response.status_code == status  # and conforms to the contract (service_clients)
    assert len(mail.requests) == 1


def test_email_with_a_header_it_would_not_forward_is_refused_before_sending(signature, stubs):
    mail = stubs["mail"]

    response = signature.post(
        "/signature/email", json=SIGNATURE, headers={**mail.headers, "Idempotency-Key": "a b"}
    )

    assert response.status_code == 422
    assert mail.requests == []
