"""records run in-process on a database of the test's own, cloned from a migrated template,
so a test can read what a request left in the tables directly."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import create_engine, func, inspect, select
from steps import created

from services.common.database import Database
from services.records import app as records
from services.records import models


@pytest.fixture
def in_process(fresh_database):
    """Call records' app in this process, on `fresh_database`."""
    database = Database(fresh_database)
    records.app.dependency_overrides[records.database.session] = database.session

    def call(method: str, path: str, **kwargs) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=records.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://records") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(send())

    yield call
    records.app.dependency_overrides.clear()
    database.close()


def count(url: str, model: type[models.Base]) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_a_fresh_database_has_every_services_tables_and_no_rows(fresh_database):
    engine = create_engine(fresh_database)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

    assert {
        "records_cases",
        "records_draft_versions",
        "facts_statements",
        "exhibits_exhibits",
    } <= tables
    assert count(fresh_database, models.Case) == 0


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_has_a_database_of_its_own(in_process, fresh_database, run):
    created(
        in_process(
            "POST", "/cases", json={"case_name": run, "cause_number": "1", "court_name": "Court"}
        )
    )

    assert count(fresh_database, models.Case) == 1


def test_a_batch_failing_half_way_writes_no_row(in_process, fresh_database):
    case = created(
        in_process(
            "POST", "/cases", json={"case_name": "A", "cause_number": "1", "court_name": "C"}
        )
    )
    items = [{"case_id": case["id"], "description": f"Item {n}"} for n in range(10)]
    items.append({"case_id": case["id"] + 1, "description": "names an unknown case"})

    response = in_process("POST", "/evidence-batches", json={"items": items})

    assert response.status_code == 404
    assert count(fresh_database, models.Evidence) == 0


def test_a_stale_save_writes_no_version_row(in_process, fresh_database):
    case = created(
        in_process(
            "POST", "/cases", json={"case_name": "A", "cause_number": "1", "court_name": "C"}
        )
    )
    draft = created(in_process("POST", "/drafts", json={"case_id": case["id"], "title": "v1"}))
    created(in_process("PUT", f"/drafts/{draft['id']}", json={"version": 1, "title": "v2"}), 200)

    stale = in_process("PUT", f"/drafts/{draft['id']}", json={"version": 1, "title": "lost"})

    assert stale.status_code == 409
    assert count(fresh_database, models.DraftVersion) == 2
