"""Dependency faults between real services: a fault proxy between a service and records.

Each test starts its own process of the calling service (`service_instance`) whose
RECORDS_SERVICE_URL is the proxy, so the stack's own processes are never disturbed.
"""

from __future__ import annotations

import httpx
import pytest
from steps import created

from services.common.documents import DOCX_MEDIA_TYPE, build_docx


@pytest.fixture
def proxy(fault_proxy):
    return fault_proxy("records")


@pytest.fixture
def draft(records, case):
    return created(records.post("/drafts", json={"case_id": case["id"], "title": "Petition"}))


def export(url: str, draft: dict) -> httpx.Response:
    return httpx.post(f"{url}/export", json={"draft_id": draft["id"]}, timeout=30)


def forwarded(proxy, method: str = "GET") -> list[str]:
    return [r.path for r in proxy.requests if r.method == method and r.fault == "forwarded"]


def test_export_with_records_refusing_connections_is_503_and_no_document(
    proxy, service_instance, draft
):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url)
    proxy.refuse()

    response = export(url, draft)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": f"records is unreachable: GET /drafts/{draft['id']} refused 3 time(s)"
    }


def test_export_with_records_slower_than_its_timeout_is_503_not_retried(
    proxy, service_instance, draft
):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url, SERVICE_CALL_TIMEOUT="0.5")
    proxy.delay(2.0)

    response = export(url, draft)

    assert response.status_code == 503
    assert response.json() == {
        "detail": f"records did not answer GET /drafts/{draft['id']} in time"
    }
    assert [r.fault for r in proxy.requests] == ["delayed 2s"]


@pytest.mark.parametrize(
    "status, headers",
    [(503, {}), (429, {"Retry-After": "1"}), (503, {"Retry-After": "0"})],
    ids=["503", "429-retry-after-1s", "503-retry-after-0s"],
)
def test_export_retries_records_until_the_fault_clears(
    proxy, service_instance, draft, case, status, headers
):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url)
    proxy.respond(status, headers=headers, times=2)

    response = export(url, draft)

    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX_MEDIA_TYPE
    assert [r.fault for r in proxy.requests] == [str(status), str(status), "forwarded", "forwarded"]
    assert forwarded(proxy) == [f"/drafts/{draft['id']}", f"/cases/{case['id']}"]


def test_export_gives_up_after_three_attempts(proxy, service_instance, draft):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url)
    proxy.respond(503, times=10)

    response = export(url, draft)

    assert response.status_code == 503
    assert response.json() == {
        "detail": f"records answered GET /drafts/{draft['id']} with 503 after 3 attempt(s)"
    }
    assert len(proxy.requests) == 3


def test_a_retry_after_beyond_the_cap_is_not_waited_for(proxy, service_instance, draft):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url)
    proxy.respond(429, headers={"Retry-After": "120"}, times=1)

    response = export(url, draft)

    assert response.status_code == 503
    assert len(proxy.requests) == 1


def test_an_idempotent_read_cut_mid_answer_is_retried(proxy, service_instance, draft):
    url = service_instance("export", RECORDS_SERVICE_URL=proxy.url)
    proxy.reset(times=1)

    response = export(url, draft)

    assert response.status_code == 200
    assert [r.fault for r in proxy.requests][:2] == ["reset", "forwarded"]


def test_exhibit_creation_retries_records_and_writes_once(
    proxy, service_instance, service_clients, records, case
):
    url = service_instance("exhibits", RECORDS_SERVICE_URL=proxy.url)
    item = created(records.post("/evidence", json={"case_id": case["id"], "description": "Memo"}))
    proxy.respond(503, headers={"Retry-After": "0"}, times=1)

    response = httpx.post(
        f"{url}/exhibits",
        json={"case_id": case["id"], "evidence_id": item["id"], "title": "Memo"},
        timeout=30,
    )

    assert response.status_code == 201
    listed = created(
        service_clients["exhibits"].get("/exhibits", params={"case_id": case["id"]}), 200
    )
    assert [e["id"] for e in listed] == [response.json()["id"]]


def test_a_fact_is_not_written_when_records_keeps_failing(
    proxy, service_instance, service_clients, case
):
    url = service_instance("facts", RECORDS_SERVICE_URL=proxy.url)
    proxy.respond(503, times=10)

    response = httpx.post(f"{url}/facts", json={"case_id": case["id"], "text": "Lost"}, timeout=30)

    assert response.status_code == 503
    assert (
        created(service_clients["facts"].get("/facts", params={"case_id": case["id"]}), 200) == []
    )


def _template_upload(name: str) -> dict:
    document = build_docx([], [("Facts", ["The lease ended."])])
    return {"files": {"file": ("p.docx", document, DOCX_MEDIA_TYPE)}, "data": {"name": name}}


def _templates_named(records, name: str) -> list[dict]:
    return [t for t in created(records.get("/templates"), 200) if t["name"] == name]


def test_a_post_cut_mid_answer_is_not_repeated(proxy, service_instance, records, unique):
    url = service_instance("ingestion", RECORDS_SERVICE_URL=proxy.url)
    name = unique("imported")
    proxy.reset(times=1)

    response = httpx.post(f"{url}/templates", **_template_upload(name), timeout=30)

    assert response.status_code == 502
    assert "it may have been carried out, so it was not repeated" in response.json()["detail"]
    assert [(r.method, r.path, r.fault) for r in proxy.requests] == [
        ("POST", "/templates", "reset")
    ]
    assert len(_templates_named(records, name)) == 1  # records did it once; nobody did it twice


def test_a_post_answered_503_is_not_repeated(proxy, service_instance, records, unique):
    url = service_instance("ingestion", RECORDS_SERVICE_URL=proxy.url)
    name = unique("imported")
    proxy.respond(503, headers={"Retry-After": "0"}, times=1)

    response = httpx.post(f"{url}/templates", **_template_upload(name), timeout=30)

    assert response.status_code == 503
    assert len(proxy.requests) == 1
    assert _templates_named(records, name) == []


def test_a_post_that_never_left_is_retried_once_records_listens(
    proxy, service_instance, records, unique
):
    url = service_instance("ingestion", RECORDS_SERVICE_URL=proxy.url)
    name = unique("imported")
    proxy.refuse(seconds=0.1)  # the first attempt is refused; the third comes >= 150 ms later

    response = httpx.post(f"{url}/templates", **_template_upload(name), timeout=30)

    assert response.status_code == 201, response.text
    assert len(_templates_named(records, name)) == 1
