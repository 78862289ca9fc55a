"""signature: formats an attorney signature block; validates the bar number and email."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from services.common.fields import text
from services.common.web import create_app

app = create_app("signature", "Formats and validates attorney signature blocks.", "1.0.0")

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
