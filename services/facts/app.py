"""facts: statements of fact attached to a case, citing its exhibits.

records is asked whether the case exists, exhibits whether each cited exhibit is the case's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.database import Database, get_or_404
from services.common.fields import Id, path_id, query_id, text
from services.common.service_client import DEPENDENCY_ERRORS, ServiceClient
from services.common.web import create_app, error_responses, ordered_by
from services.facts.models import Fact

app = create_app("facts", "Statements of fact attached to records' cases.", version="1.1.0")
database = Database()
DB = Annotated[Session, Depends(database.session)]
FactId = Annotated[int, path_id("fact")]
Statement = Annotated[str, text(20_000)]
NOT_FOUND = error_responses(404)


class FactIn(BaseModel):
    case_id: Id
    text: Statement
    exhibit_ids: Annotated[list[Id], Field(max_length=50)] = Field(
        default_factory=list, description="Exhibits of the same case this statement cites"
    )


class FactUpdate(BaseModel):
    text: Statement


class FactOut(FactIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime


@app.post(
    "/facts",
    status_code=201,
    response_model=FactOut,
    responses=error_responses(404, 409, *DEPENDENCY_ERRORS),
)
def create_fact(body: FactIn, session: DB) -> Fact:
    """404 for an unknown case or exhibit; 409 when a cited exhibit is another case's."""
    with ServiceClient("records") as records:
        records.require(f"/cases/{body.case_id}", f"case {body.case_id}")
    with ServiceClient("exhibits") as exhibits:
        for exhibit_id in body.exhibit_ids:
            exhibits.require_in_case(
                f"/exhibits/{exhibit_id}", f"exhibit {exhibit_id}", body.case_id
            )
    fact = Fact(case_id=body.case_id, text=body.text, exhibit_ids=body.exhibit_ids)
    session.add(fact)
    session.commit()
    return fact


@app.get("/facts", response_model=list[FactOut], openapi_extra=ordered_by("id"))
def list_facts(session: DB, case_id: Annotated[int | None, query_id("case")] = None) -> list[Fact]:
    query = select(Fact).order_by(Fact.id)
    if case_id is not None:
        query = query.where(Fact.case_id == case_id)
    return list(session.scalars(query))


@app.get("/facts/{fact_id}", response_model=FactOut, responses=NOT_FOUND)
def get_fact(fact_id: FactId, session: DB) -> Fact:
    return get_or_404(session, Fact, fact_id)


@app.put("/facts/{fact_id}", response_model=FactOut, responses=NOT_FOUND)
def update_fact(fact_id: FactId, body: FactUpdate, session: DB) -> Fact:
    fact = get_or_404(session, Fact, fact_id)
    fact.text = body.text
    session.commit()
    return fact


@app.delete("/facts/{fact_id}", status_code=204, responses=NOT_FOUND)
def delete_fact(fact_id: FactId, session: DB) -> Response:
    session.delete(get_or_404(session, Fact, fact_id))
    session.commit()
    return Response(status_code=204)
