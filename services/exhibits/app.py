"""exhibits: a case's exhibits, lettered in order and renumbered on delete, linked to evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.database import Database, get_or_404
from services.common.fields import Id, path_id, query_id, text
from services.common.service_client import DEPENDENCY_ERRORS, ServiceClient
from services.common.web import create_app, error_responses, ordered_by
from services.exhibits.models import Exhibit
from services.exhibits.numbering import letter

app = create_app("exhibits", "Lettered exhibits of a case, linked to records' evidence.", "1.0.0")
database = Database()
DB = Annotated[Session, Depends(database.session)]
ExhibitId = Annotated[int, path_id("exhibit")]
Title = Annotated[str, text(300)]
NOT_FOUND = error_responses(404)


class ExhibitIn(BaseModel):
    case_id: Id
    evidence_id: Id
    title: Title


class ExhibitUpdate(BaseModel):
    title: Title


class ExhibitOut(ExhibitIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    position: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def letter(self) -> str:
        return letter(self.position)


def _lock_exhibits_of(session: Session, case_id: int) -> None:
    """Hold the case's exhibits until commit (PostgreSQL; SQLite writes one at a time), so
    a concurrent delete or creation letters them after this one, not from a stale picture:
    without it two deletes of one case renumbered the same rows and one failed with a 500."""
    session.execute(
        select(Exhibit.id).where(Exhibit.case_id == case_id).order_by(Exhibit.id).with_for_update()
    ).all()


def _check_evidence(body: ExhibitIn) -> None:
    """404 when records knows no such case or evidence; 409 when the evidence is another case's."""
    with ServiceClient("records") as records:
        records.require(f"/cases/{body.case_id}", f"case {body.case_id}")
        records.require_in_case(
            f"/evidence/{body.evidence_id}", f"evidence {body.evidence_id}", body.case_id
        )


@app.post(
    "/exhibits",
    status_code=201,
    response_model=ExhibitOut,
    responses=error_responses(404, 409, *DEPENDENCY_ERRORS),
)
def create_exhibit(body: ExhibitIn, session: DB) -> Exhibit:
    """The next letter of the case; 409 if that evidence is already an exhibit of the case."""
    _check_evidence(body)
    _lock_exhibits_of(session, body.case_id)
    last = session.scalar(select(func.max(Exhibit.position)).where(Exhibit.case_id == body.case_id))
    exhibit = Exhibit(**body.model_dump(), position=(last or 0) + 1)
    session.add(exhibit)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            409,
            f"evidence {body.evidence_id} is already an exhibit of case {body.case_id}, "
            "or another exhibit was added at the same time; reload and retry",
        ) from None
    return exhibit


@app.get(
    "/exhibits", response_model=list[ExhibitOut], openapi_extra=ordered_by("case_id", "position")
)
def list_exhibits(
    session: DB, case_id: Annotated[int | None, query_id("case")] = None
) -> list[Exhibit]:
    query = select(Exhibit).order_by(Exhibit.case_id, Exhibit.position)
    if case_id is not None:
        query = query.where(Exhibit.case_id == case_id)
    return list(session.scalars(query))


@app.get("/exhibits/{exhibit_id}", response_model=ExhibitOut, responses=NOT_FOUND)
def get_exhibit(exhibit_id: ExhibitId, session: DB) -> Exhibit:
    return get_or_404(session, Exhibit, exhibit_id)


@app.put("/exhibits/{exhibit_id}", response_model=ExhibitOut, responses=NOT_FOUND)
def update_exhibit(exhibit_id: ExhibitId, body: ExhibitUpdate, session: DB) -> Exhibit:
    exhibit = get_or_404(session, Exhibit, exhibit_id)
    exhibit.title = body.title
    session.commit()
    return exhibit


@app.delete("/exhibits/{exhibit_id}", status_code=204, responses=NOT_FOUND)
def delete_exhibit(exhibit_id: ExhibitId, session: DB) -> Response:
    """Delete, then move each later exhibit of the case up one letter, in one transaction."""
    case_id = get_or_404(session, Exhibit, exhibit_id).case_id
    _lock_exhibits_of(session, case_id)
    session.expunge_all()  # read it again, now that no one else can move it
    exhibit = get_or_404(session, Exhibit, exhibit_id)
    position = exhibit.position
    session.delete(exhibit)
    session.flush()
    later = session.scalars(
        select(Exhibit.id)
        .where(Exhibit.case_id == case_id, Exhibit.position > position)
        .order_by(Exhibit.position)
    ).all()
    for later_id in later:  # one row at a time, so each new position is already free
        session.execute(
            update(Exhibit).where(Exhibit.id == later_id).values(position=Exhibit.position - 1)
        )
    session.commit()
    return Response(status_code=204)
