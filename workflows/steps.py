"""What every workflow step checks."""

from __future__ import annotations

from typing import Any

import httpx


def created(response: httpx.Response, status: int = 201) -> Any:
    """The body of a response that must have `status`; the failure shows the body when not."""
    assert response.status_code == status, (
        f"{response.request.method} {response.url}: {response.text}"
    )
    return response.json()
