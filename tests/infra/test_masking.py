"""Passwords masked wherever a connection string carries one, and nothing else touched."""

from __future__ import annotations

import pytest

from harness.infra._masking import mask_secrets


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://app:p%40ss@db:5432/x", "postgresql://app:***@db:5432/x"),
        (
            "at 'postgresql+psycopg://u:hunter2@h/d', then",
            "at 'postgresql+psycopg://u:***@h/d', then",
        ),
        ("host=127.0.0.1 password=hunter2 dbname=x", "host=127.0.0.1 password=*** dbname=x"),
        ("host=h password='hunter 2' dbname=x", "host=h password=*** dbname=x"),
        ("&quot;postgresql://a:b&amp;c@h/d&quot;", "&quot;postgresql://a:***@h/d&quot;"),
    ],
)
def test_passwords_are_masked(text, masked):
    assert mask_secrets(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://app@db/x",
        "http://127.0.0.1:8000/health",
        "password=read_secret(Path(root)),",  # a traceback's source line, not a value
    ],
)
def test_text_without_a_password_is_unchanged(text):
    assert mask_secrets(text) == text
