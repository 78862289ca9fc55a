"""signature: formats an attorney signature block; validates the bar number and email;
e-mails the block to the attorney through the mail API (`mail.py`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.common.fields import text
from services.common.web import create_app, error_responses
from services.signature import mail

app = create_app(
    "signature",
    "Formats and validates attorney signature blocks, and e-mails them to the attorney.",
    "1.1.0",
)

BAR_NUMBER = r"^[0-9]{8}$"
EMAIL = r"^[^@\s\x00]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
PHONE = r"^\+?[0-9 ().-]{7,25}$"
Line = Annotated[str, text(200)]


class SignatureIn(BaseModel):
    name: Line
    bar_number: str = Field(pattern=BAR_NUMBER, description="State bar number: eight digits")
    email: str = Field(max_length=254, pattern=EMAIL)
    firm: Line | None = None
    address_lines: Annotated[list[Line], Field(max_length=5)] = Field(default_factory=list)
    phone: str | None = Field(default=None, pattern=PHONE)
    role: Line = Field(default="Attorney for Plaintiff", description="e.g. Attorney for Defendant")


class SignatureOut(BaseModel):
    name: str
    bar_number: str
    email: str
    lines: list[str]
    text: str


def signature_lines(signature: SignatureIn, email: str) -> list[str]:
    """'Respectfully submitted,', the firm, /s/ name, bar number, address, contacts, role."""
    contact = [f"Tel: {signature.phone}"] if signature.phone else []
    return [
        "Respectfully submitted,",
        "",
        *([signature.firm.strip(), ""] if signature.firm else []),
        f"By: /s/ {signature.name.strip()}",
        signature.name.strip(),
        f"State Bar No. {signature.bar_number}",
        *(line.strip() for line in signature.address_lines),
        *contact,
        f"Email: {email}",
        signature.role.strip().upper(),
    ]


@app.post("/signature", response_model=SignatureOut)
def format_signature(body: SignatureIn) -> SignatureOut:
    local, domain = body.email.rsplit("@", 1)
    email = f"{local}@{domain.lower()}"
    lines = signature_lines(body, email)
    return SignatureOut(
        name=body.name.strip(),
        bar_number=body.bar_number,
        email=email,
        lines=lines,
        text="\n".join(lines),
    )


class SignatureEmailIn(SignatureIn):
    subject: Line = "Your signature block"


class SignatureEmailOut(BaseModel):
    to: str
    message_id: str = Field(description="The mail API's id of the message")
    idempotency_key: str = Field(description="Sent with every attempt: the message goes once")
    attempts: int = Field(description="Attempts it took (at most 3)")


VISIBLE_ASCII = r"^[!-~]{1,200}$"  # what a header forwarded to the mail API may hold
IdempotencyKey = Annotated[
    str | None,
    Header(
        pattern=VISIBLE_ASCII,
        description="Send the same key again and the mail API sends the message once; "
        "default: a new key",
    ),
]
CorrelationId = Annotated[
    str | None,
    Header(
        alias=mail.CORRELATION_HEADER,
        pattern=VISIBLE_ASCII,
        description="Forwarded to the mail API",
    ),
]


@app.post(
    "/signature/email",
    status_code=202,
    response_model=SignatureEmailOut,
    responses=error_responses(502, 503, 504),
)
async def email_signature(
    body: SignatureEmailIn,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
) -> SignatureEmailOut:
    """E-mail the formatted block to the attorney: 502 when the mail API refuses it, 503
    when it is unreachable or limiting the rate, 504 when it does not answer in time."""
    block = format_signature(body)
    key = idempotency_key or uuid.uuid4().hex
    message = {
        "from": mail.sender(),
        "to": [block.email],
        "subject": body.subject.strip(),
        "text": block.text,
    }
    sent = await run_in_threadpool(mail.send, message, key, correlation_id)
    return SignatureEmailOut(
        to=block.email, message_id=sent.message_id, idempotency_key=key, attempts=sent.attempts
    )
