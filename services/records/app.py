"""records: templates, cases, drafts (versioned) and evidence, CRUD over SQLAlchemy 2."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.common.database import Database
from services.common.web import create_app
from services.records import models, schemas

app = create_app("records", "Templates, cases, versioned drafts and evidence.")
database = Database()
DB = Annotated[Session, Depends(database.session)]
Row = TypeVar("Row", bound=models.Base)


def _get(session: Session, model: type[Row], row_id: int) -> Row:
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(404, f"{model.__name__.lower()} {row_id} not found")
    return row


def _dump(sections: list[schemas.Section] | None) -> list[dict[str, Any]] | None:
    return None if sections is None else [section.model_dump() for section in sections]


@app.post("/templates", status_code=201, response_model=schemas.TemplateOut)
def create_template(body: schemas.TemplateIn, session: DB) -> models.Template:
    template = models.Template(**body.model_dump())
    session.add(template)
    session.commit()
    return template


@app.get("/templates", response_model=list[schemas.TemplateOut])
def list_templates(session: DB) -> list[models.Template]:
    return list(session.scalars(select(models.Template).order_by(models.Template.id)))


@app.get("/templates/{template_id}", response_model=schemas.TemplateOut)
def get_template(template_id: int, session: DB) -> models.Template:
    return _get(session, models.Template, template_id)


@app.put("/templates/{template_id}", response_model=schemas.TemplateOut)
def update_template(template_id: int, body: schemas.TemplateUpdate, session: DB) -> models.Template:
    template = _get(session, models.Template, template_id)
    changes = body.model_dump(exclude_unset=True, exclude={"sections"})
    if body.sections is not None:
        changes["sections"] = _dump(body.sections)
    for name, value in changes.items():
        if value is None:
            raise HTTPException(422, f"{name} may not be null")
        setattr(template, name, value)
    session.commit()
    return template


@app.delete("/templates/{template_id}", status_code=204)
def delete_template(template_id: int, session: DB) -> Response:
    session.delete(_get(session, models.Template, template_id))
    session.commit()
    return Response(status_code=204)


@app.post("/cases", status_code=201, response_model=schemas.CaseOut)
def create_case(body: schemas.CaseIn, session: DB) -> models.Case:
    if body.template_id is not None:
        _get(session, models.Template, body.template_id)
    case = models.Case(**body.model_dump())
    session.add(case)
    session.commit()
    return case


@app.get("/cases", response_model=list[schemas.CaseOut])
def list_cases(session: DB) -> list[models.Case]:
    return list(session.scalars(select(models.Case).order_by(models.Case.id)))


@app.get("/cases/{case_id}", response_model=schemas.CaseOut)
def get_case(case_id: int, session: DB) -> models.Case:
    return _get(session, models.Case, case_id)


@app.post("/drafts", status_code=201, response_model=schemas.DraftOut)
def create_draft(body: schemas.DraftIn, session: DB) -> models.Draft:
    _get(session, models.Case, body.case_id)
    draft = models.Draft(case_id=body.case_id, title=body.title, sections=_dump(body.sections))
    session.add(draft)
    session.commit()
    return draft


@app.get("/drafts/{draft_id}", response_model=schemas.DraftOut)
def get_draft(draft_id: int, session: DB) -> models.Draft:
    return _get(session, models.Draft, draft_id)


@app.put("/drafts/{draft_id}", response_model=schemas.DraftOut)
def save_draft(draft_id: int, body: schemas.DraftUpdate, session: DB) -> models.Draft:
    """Save a new version; 409 when the draft moved on since `body.version`."""
    if body.title is None and body.sections is None:
        raise HTTPException(422, "nothing to save: give title or sections")
    draft = _get(session, models.Draft, draft_id)
    if draft.version != body.version:
        raise HTTPException(
            409,
            f"draft {draft_id} is at version {draft.version}, not {body.version}; reload and retry",
        )
    if body.title is not None:
        draft.title = body.title
    if body.sections is not None:
        draft.sections = _dump(body.sections) or []
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise HTTPException(
            409, f"draft {draft_id} was saved concurrently; reload and retry"
        ) from None
    return draft


@app.post("/evidence", status_code=201, response_model=schemas.EvidenceOut)
def create_evidence(body: schemas.EvidenceIn, session: DB) -> models.Evidence:
    _get(session, models.Case, body.case_id)
    evidence = models.Evidence(**body.model_dump())
    session.add(evidence)
    session.commit()
    return evidence


@app.get("/evidence", response_model=list[schemas.EvidenceOut])
def list_evidence(session: DB, case_id: int | None = None) -> list[models.Evidence]:
    query = select(models.Evidence).order_by(models.Evidence.id)
    if case_id is not None:
        query = query.where(models.Evidence.case_id == case_id)
    return list(session.scalars(query))


@app.get("/evidence/{evidence_id}", response_model=schemas.EvidenceOut)
def get_evidence(evidence_id: int, session: DB) -> models.Evidence:
    return _get(session, models.Evidence, evidence_id)
