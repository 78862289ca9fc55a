"""export: renders a draft, fetched from records over HTTP, to a .docx file."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from services.common.documents import DOCX_MEDIA_TYPE
from services.common.fields import Id
from services.common.service_client import DEPENDENCY_ERRORS, ServiceClient
from services.common.web import create_app, error_responses
from services.export.rendering import render_draft

app = create_app("export", "Renders drafts from records to .docx.", version="1.0.0")


# python-docx (lxml) keeps some 17 MB of state in every thread that renders: in the
# 40-thread request pool export's RSS grew by 20 MB every 90 exports (perf package). So
# rendering, which holds the GIL anyway, has two threads of its own.
_RENDERING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")


class ExportRequest(BaseModel):
    draft_id: Id


@app.post(
    "/export",
    response_class=Response,
    responses={
        200: {
            "content": {DOCX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The draft as .docx",
            "headers": {
                "Content-Disposition": {
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "attachment; filename=draft-<id>.docx",
                }
            },
        },
        **error_responses(404, *DEPENDENCY_ERRORS),
    },
)
async def export(body: ExportRequest) -> Response:
    draft, case = await run_in_threadpool(_fetch, body.draft_id)
    content = await asyncio.get_running_loop().run_in_executor(
        _RENDERING, render_draft, draft, case
    )
    return Response(
        content=content,
        media_type=DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="draft-{body.draft_id}.docx"'},
    )


def _fetch(draft_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The draft and its case from records (blocking: run in the request thread pool)."""
    with ServiceClient("records") as records:
        draft = records.require(f"/drafts/{draft_id}", f"draft {draft_id}")
        return draft, records.get(f"/cases/{draft['case_id']}")
