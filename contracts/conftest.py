"""Shared pieces of the contract tests: unique names, .docx files, no records."""

from __future__ import annotations

import io
import os
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pytest

from harness.processes import ProcessRecord, spawn, stop_group, wait_healthy


@pytest.fixture
def unique() -> Callable[[str], str]:
    """`unique("template")` -> 'template-3f2a…': data no other test can collide with."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def case(service_clients, unique):
    """A case in records, unique to the test."""
    records = service_clients["records"]
    response = records.post(
        "/cases",
        json={
            "case_name": f"{unique('Roe')} v. Doe",
            "cause_number": unique("2026-CI"),
            "court_name": "District Court of Travis County, Texas",
        },
    )
    assert response.status_code == 201
    return response.json()


def build_docx(caption: list[str], sections: list[tuple[str, list[str]]]) -> bytes:
    """A real Word document: caption paragraphs, then a heading and paragraphs per section."""
    document = docx.Document()
    document.core_properties.title = "Contract test document"
    document.core_properties.author = "harness"
    for line in caption:
        document.add_paragraph(line)
    for title, paragraphs in sections:
        document.add_heading(title, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def without_records(tmp_path) -> Iterator[Callable[[str], str]]:
    """`without_records("export")`: the URL of a second process of that service whose
    RECORDS_SERVICE_URL points at a port nobody listens on (and whose database is an empty
    SQLite file: the request must fail before it gets there). Stopped after the test."""
    started: list[ProcessRecord] = []

    def start(service: str) -> str:
        port = _unused_port()
        env = {
            **os.environ,
            "RECORDS_SERVICE_URL": f"http://127.0.0.1:{_unused_port()}",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        }
        command = [sys.executable, "-m", "uvicorn", f"services.{service}.app:app"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        log = tmp_path / f"{service}.log"
        process = spawn(command, env, log, cwd=Path.cwd())
        started.append(ProcessRecord.of(process.pid))
        url = f"http://127.0.0.1:{port}"
        wait_healthy(service, process, f"{url}/health", 30, log, threading.Event())
        return url

    yield start
    for record in started:
        stop_group(record, grace=5)
