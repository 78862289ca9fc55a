"""records: templates, cases, drafts (every version kept) and evidence, over SQLAlchemy 2."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Response, WebSocket
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from services.common.database import Database, get_or_404
from services.common.fields import path_id, query_id
from services.common.streams import asyncapi_document
from services.common.web import create_app, error_responses, ordered_by
from services.records import events, models, schemas, variables

app = create_app("records", "Templates, cases, versioned drafts and evidence.", version="1.1.0")
database = Database()
DB = Annotated[Session, Depends(database.session)]
TemplateId = Annotated[int, path_id("template")]
CaseId = Annotated[int, path_id("case")]
DraftId = Annotated[int, path_id("draft")]
EvidenceId = Annotated[int, path_id("evidence item")]
NOT_FOUND = error_responses(404)


def _dump(sections: list[schemas.Section] | None) -> list[dict[str, Any]] | None:
    return None if sections is None else [section.model_dump() for section in sections]


@app.post("/templates", status_code=201, response_model=schemas.TemplateOut)
def create_template(body: schemas.TemplateIn, session: DB) -> models.Template:
    template = models.Template(**body.model_dump())
    session.add(template)
    session.commit()
    return template


@app.get("/templates", response_model=list[schemas.TemplateOut], openapi_extra=ordered_by("id"))
def list_templates(session: DB) -> list[models.Template]:
    return list(session.scalars(select(models.Template).order_by(models.Template.id)))


@app.get("/templates/{template_id}", response_model=schemas.TemplateOut, responses=NOT_FOUND)
def get_template(template_id: TemplateId, session: DB) -> models.Template:
    return get_or_404(session, models.Template, template_id)


@app.put("/templates/{template_id}", response_model=schemas.TemplateOut, responses=NOT_FOUND)
def update_template(
    template_id: TemplateId, body: schemas.TemplateUpdate, session: DB
) -> models.Template:
    template = get_or_404(session, models.Template, template_id)
    changes = body.model_dump(exclude_unset=True, exclude={"sections"})
    if "sections" in body.model_fields_set:
        changes["sections"] = _dump(body.sections)
    for name, value in changes.items():
        setattr(template, name, value)
    session.commit()
    return template


@app.delete("/templates/{template_id}", status_code=204, responses=NOT_FOUND)
def delete_template(template_id: TemplateId, session: DB) -> Response:
    session.delete(get_or_404(session, models.Template, template_id))
    session.commit()
    return Response(status_code=204)


@app.post("/cases", status_code=201, response_model=schemas.CaseOut, responses=NOT_FOUND)
def create_case(body: schemas.CaseIn, session: DB) -> models.Case:
    if body.template_id is not None:
        get_or_404(session, models.Template, body.template_id)
    case = models.Case(**body.model_dump())
    session.add(case)
    session.commit()
    return case


@app.get("/cases", response_model=list[schemas.CaseOut], openapi_extra=ordered_by("id"))
def list_cases(session: DB) -> list[models.Case]:
    return list(session.scalars(select(models.Case).order_by(models.Case.id)))


@app.get("/cases/{case_id}", response_model=schemas.CaseOut, responses=NOT_FOUND)
def get_case(case_id: CaseId, session: DB) -> models.Case:
    return get_or_404(session, models.Case, case_id)


def _add_draft(
    session: Session, case_id: int, title: str, sections: list[dict[str, Any]]
) -> models.Draft:
    """A new draft at version 1, with that version kept."""
    draft = models.Draft(case_id=case_id, title=title, sections=sections)
    draft.versions.add(models.DraftVersion(version=1, title=title, sections=sections))
    session.add(draft)
    session.commit()
    _publish_draft(draft, "draft.created")
    return draft


def _publish_draft(draft: models.Draft, type_: str) -> None:
    payload = {"draft_id": draft.id, "version": draft.version, "title": draft.title}
    events.publish_from_worker(draft.case_id, type_, payload)


def _publish_evidence(evidence: models.Evidence) -> None:
    payload = {
        "evidence_id": evidence.id,
        "kind": evidence.kind,
        "description": evidence.description,
    }
    events.publish_from_worker(evidence.case_id, "evidence.added", payload)


@app.post("/drafts", status_code=201, response_model=schemas.DraftOut, responses=NOT_FOUND)
def create_draft(body: schemas.DraftIn, session: DB) -> models.Draft:
    get_or_404(session, models.Case, body.case_id)
    return _add_draft(session, body.case_id, body.title, _dump(body.sections) or [])


@app.post(
    "/cases/{case_id}/drafts",
    status_code=201,
    response_model=schemas.DraftOut,
    responses=error_responses(404, 409),
)
def create_draft_from_case(
    case_id: CaseId, body: schemas.DraftFromCase, session: DB
) -> models.Draft:
    """The case's template, its `{{ name }}` placeholders filled from the case's variables
    over the template's; 409 when the case has no template or a variable has no value."""
    case = get_or_404(session, models.Case, case_id)
    template = session.get(models.Template, case.template_id) if case.template_id else None
    if template is None:
        raise HTTPException(409, f"case {case_id} has no template to start a draft from")
    values = {**template.variables, **case.variables}
    missing = variables.placeholders(template.sections) - values.keys()
    if missing:
        raise HTTPException(
            409, f"case {case_id} gives no value for {', '.join(sorted(missing))}; set it first"
        )
    try:
        sections = [
            schemas.Section.model_validate(section).model_dump()
            for section in variables.resolve(template.sections, values)
        ]
    except ValidationError as exc:
        raise HTTPException(
            409,
            f"template {template.id} filled with case {case_id}'s values: {exc.errors()[0]['msg']}",
        ) from None
    return _add_draft(session, case_id, body.title or template.name, sections)


@app.get("/drafts/{draft_id}", response_model=schemas.DraftOut, responses=NOT_FOUND)
def get_draft(draft_id: DraftId, session: DB) -> models.Draft:
    return get_or_404(session, models.Draft, draft_id)


@app.put("/drafts/{draft_id}", response_model=schemas.DraftOut, responses=error_responses(404, 409))
def save_draft(draft_id: DraftId, body: schemas.DraftUpdate, session: DB) -> models.Draft:
    """Save a new version; 409 when the draft moved on since `body.version`."""
    draft = get_or_404(session, models.Draft, draft_id)
    if draft.version != body.version:
        raise HTTPException(
            409,
            f"draft {draft_id} is at version {draft.version}, not {body.version}; reload and retry",
        )
    if body.title is not None:
        draft.title = body.title
    if body.sections is not None:
        draft.sections = _dump(body.sections) or []
    flag_modified(draft, "title")  # a save that changes nothing still updates, so bumps, the row
    draft.versions.add(
        models.DraftVersion(version=draft.version + 1, title=draft.title, sections=draft.sections)
    )
    try:
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise HTTPException(
            409, f"draft {draft_id} was saved concurrently; reload and retry"
        ) from None
    _publish_draft(draft, "draft.saved")
    return draft


@app.post("/evidence", status_code=201, response_model=schemas.EvidenceOut, responses=NOT_FOUND)
def create_evidence(body: schemas.EvidenceIn, session: DB) -> models.Evidence:
    get_or_404(session, models.Case, body.case_id)
    evidence = models.Evidence(**body.model_dump())
    session.add(evidence)
    session.commit()
    _publish_evidence(evidence)
    return evidence


@app.get(
    "/drafts/{draft_id}/versions",
    response_model=list[schemas.DraftVersionOut],
    responses=NOT_FOUND,
    openapi_extra=ordered_by("version"),
)
def list_draft_versions(draft_id: DraftId, session: DB) -> list[models.DraftVersion]:
    """Every saved version of the draft, oldest first."""
    get_or_404(session, models.Draft, draft_id)
    query = select(models.DraftVersion).where(models.DraftVersion.draft_id == draft_id)
    return list(session.scalars(query.order_by(models.DraftVersion.version)))


@app.post(
    "/evidence-batches",
    status_code=201,
    response_model=list[schemas.EvidenceOut],
    responses=NOT_FOUND,
)
def create_evidence_batch(body: schemas.EvidenceBatch, session: DB) -> list[models.Evidence]:
    """All the items in one transaction, or none: the database checks each item's case."""
    items = [models.Evidence(**item.model_dump()) for item in body.items]
    session.add_all(items)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        named = {item.case_id for item in body.items}
        known = set(session.scalars(select(models.Case.id).where(models.Case.id.in_(named))))
        unknown = ", ".join(str(case_id) for case_id in sorted(named - known))
        raise HTTPException(404, f"case {unknown} not found; no evidence was created") from None
    for item in items:
        _publish_evidence(item)
    return items


@app.get("/evidence", response_model=list[schemas.EvidenceOut], openapi_extra=ordered_by("id"))
def list_evidence(
    session: DB, case_id: Annotated[int | None, query_id("case")] = None
) -> list[models.Evidence]:
    query = select(models.Evidence).order_by(models.Evidence.id)
    if case_id is not None:
        query = query.where(models.Evidence.case_id == case_id)
    return list(session.scalars(query))


@app.get("/evidence/{evidence_id}", response_model=schemas.EvidenceOut, responses=NOT_FOUND)
def get_evidence(evidence_id: EvidenceId, session: DB) -> models.Evidence:
    return get_or_404(session, models.Evidence, evidence_id)


ASYNCAPI = asyncapi_document(
    "records",
    events.STREAM_VERSION,
    "Case events: every change to a case's drafts and evidence, as it is committed.",
    [events.CASE_EVENTS],
)


@app.get("/asyncapi.json", include_in_schema=False)
def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of records' streams, generated from their message models."""
    return ASYNCAPI


def _case_exists(session: Session, case_id: int) -> bool:
    found = session.get(models.Case, case_id) is not None
    session.close()  # the connection goes back to the pool for as long as the socket is open
    return found


@app.websocket("/cases/{case_id}/events")
async def case_events(
    websocket: WebSocket,
    case_id: int,
    session: DB,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> None:
    """The case's events from now on, or after `after` (events.py documents the stream)."""
    if not await run_in_threadpool(_case_exists, session, case_id):
        await websocket.accept()
        await websocket.close(events.CLOSE_UNKNOWN_CASE, f"case {case_id} not found")
        return
    subscriber = events.hub.subscribe(case_id, after)  # before accept: nothing is missed
    await websocket.accept()
    if subscriber is None:
        reason = f"after={after} is beyond case {case_id}'s latest event (records restarted?)"
        await websocket.close(events.CLOSE_AFTER_UNKNOWN, reason)
        return
    try:
        await _serve(websocket, subscriber)
    finally:
        events.hub.unsubscribe(case_id, subscriber)


async def _serve(websocket: WebSocket, subscriber: events.Subscriber) -> None:
    """Send the subscriber's events until it disconnects or falls too far behind."""
    listening = asyncio.create_task(_until_disconnect(websocket))
    sending = asyncio.create_task(_send_events(websocket, subscriber))
    _, pending = await asyncio.wait({listening, sending}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(listening, sending, return_exceptions=True)


async def _until_disconnect(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass  # a client's own messages are ignored


async def _send_events(websocket: WebSocket, subscriber: events.Subscriber) -> None:
    for event in subscriber.replay:
        await websocket.send_json(event)
    while not subscriber.overflowed:
        await websocket.send_json(await subscriber.queue.get())
    reason = f"over {subscriber.queue.maxsize} events behind; resume with ?after=<last seq>"
    await websocket.close(events.CLOSE_TOO_SLOW, reason)
