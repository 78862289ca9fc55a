"""Passwords out of everything harness says: messages, logs it shows, JUnit files, reports.

A password is recognised where connection strings carry one: in a URL
(`scheme://user:PASSWORD@host`) and as a libpq keyword (`password=PASSWORD`).
"""

from __future__ import annotations

import re

MASK = "***"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(  # a value, not code such as `password=read_secret(…)`
    r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|(?![^\s'\"]*\()[^\s'\"]+)", re.IGNORECASE
)


def mask_secrets(text: str) -> str:
    """`text` with every password in a URL or a `password=` keyword replaced by ***."""
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    return _KEYWORD_PASSWORD.sub(rf"\g<1>{MASK}", text)
