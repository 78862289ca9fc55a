"""export: a draft fetched from records, rendered to a real .docx."""

from __future__ import annotations

import io
import os
import socket
import sys
import threading
from pathlib import Path

import docx
import httpx
import pytest

from harness.processes import ProcessRecord, spawn, stop_group, wait_healthy

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def draft(service_clients, case):
    response = service_clients["records"].post(
        "/drafts",
        json={
            "case_id": case["id"],
            "title": "Original Petition",
            "sections": [
                {"title": "Discovery Control Plan", "content": "Level 2 applies.\nSecond line."},
                {"title": "Prayer", "content": "Plaintiff asks for judgment."},
            ],
        },
    )
    assert response.status_code == 201
    return response.json()


def test_export_returns_a_docx_that_opens_with_the_draft_text(service_clients, case, draft):
    response = service_clients["export"].post("/export", json={"draft_id": draft["id"]})

    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX
    assert response.content[:4] == b"PK\x03\x04"
    document = docx.Document(io.BytesIO(response.content))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert "Original Petition" in texts
    assert texts.index("Discovery Control Plan") < texts.index("Prayer")
    assert "Level 2 applies." in texts
    assert case["case_name"] in texts


def test_export_of_unknown_draft_is_404(service_clients):
    response = service_clients["export"].post("/export", json={"draft_id": 999999999})

    assert response.status_code == 404
    assert "999999999" in response.json()["detail"]


@pytest.mark.parametrize("payload", [{}, {"draft_id": "abc"}, {"draft": 1}])
def test_export_with_invalid_body_is_422(service_clients, payload):
    response = service_clients["export"].post("/export", json=payload)

    assert response.status_code == 422
    assert response.json()["detail"]


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def export_without_records(tmp_path):
    """A second export process whose RECORDS_SERVICE_URL points at a port nobody listens on."""
    dead_port, port = _unused_port(), _unused_port()
    env = {**os.environ, "RECORDS_SERVICE_URL": f"http://127.0.0.1:{dead_port}"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "services.export.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = tmp_path / "export.log"
    process = spawn(command, env, log, cwd=Path.cwd())
    record = ProcessRecord.of(process.pid)
    try:
        wait_healthy(
            "export", process, f"http://127.0.0.1:{port}/health", 30, log, threading.Event()
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(record, grace=5)


def test_export_when_records_is_unreachable_is_503_with_json_error(export_without_records):
    response = httpx.post(f"{export_without_records}/export", json={"draft_id": 1}, timeout=30)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert "records is unreachable" in response.json()["detail"]
