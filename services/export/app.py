"""export: renders a draft, fetched from records over HTTP, to a .docx file."""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi import HTTPException, Response
from pydantic import BaseModel

from services.common.documents import DOCX_MEDIA_TYPE
from services.common.web import create_app
from services.export.rendering import render_draft

app = create_app("export", "Renders drafts from records to .docx.")
RECORDS_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class ExportRequest(BaseModel):
    draft_id: int


def _records_url() -> str:
    url = os.environ.get("RECORDS_SERVICE_URL")
    if not url:
        raise HTTPException(503, "RECORDS_SERVICE_URL is not set; cannot reach records")
    return url


async def _fetch(client: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    """GET a records resource; None for 404, HTTPException 502/503 when records fails."""
    try:
        response = await client.get(path)
    except httpx.TimeoutException:
        raise HTTPException(503, f"records did not answer GET {path} in time") from None
    except httpx.TransportError as exc:
        raise HTTPException(503, f"records is unreachable: {exc.__class__.__name__}") from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise HTTPException(502, f"records answered GET {path} with {response.status_code}")
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise HTTPException(502, f"records answered GET {path} with invalid JSON") from None
    return body


@app.post(
    "/export",
    response_class=Response,
    responses={200: {"content": {DOCX_MEDIA_TYPE: {}}, "description": "The draft as .docx"}},
)
async def export(body: ExportRequest) -> Response:
    async with httpx.AsyncClient(base_url=_records_url(), timeout=RECORDS_TIMEOUT) as client:
        draft = await _fetch(client, f"/drafts/{body.draft_id}")
        if draft is None:
            raise HTTPException(404, f"draft {body.draft_id} not found in records")
        case = await _fetch(client, f"/cases/{draft['case_id']}")
    return Response(
        content=render_draft(draft, case),
        media_type=DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="draft-{body.draft_id}.docx"'},
    )
