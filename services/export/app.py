"""export: renders a draft, fetched from records over HTTP, to a .docx file."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from services.common.documents import DOCX_MEDIA_TYPE
from services.common.fields import Id
from services.common.service_client import DEPENDENCY_ERRORS, ServiceClient
from services.common.web import create_app, error_responses
from services.export.rendering import render_draft

app = create_app("export", "Renders drafts from records to .docx.", version="1.0.0")


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
def export(body: ExportRequest) -> Response:
    with ServiceClient("records") as records:
        draft = records.require(f"/drafts/{body.draft_id}", f"draft {body.draft_id}")
        case = records.get(f"/cases/{draft['case_id']}")
    return Response(
        content=render_draft(draft, case),
        media_type=DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="draft-{body.draft_id}.docx"'},
    )
