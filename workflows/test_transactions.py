"""Transactions and concurrency against the live stack, on each back end."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from steps import created


def test_a_batch_failing_half_way_leaves_no_rows(records, case):
    items = [{"case_id": case["id"], "description": f"Item {n}"} for n in range(600)]
    items.insert(500, {"case_id": 2_000_000_000, "description": "names an unknown case"})

    response = records.post("/evidence-batches", json={"items": items})

    assert response.status_code == 404
    assert response.json() == {"detail": "case 2000000000 not found; no evidence was created"}
    assert created(records.get("/evidence", params={"case_id": case["id"]}), 200) == []


def test_fifty_concurrent_case_creations_all_succeed_with_unique_ids(records, service_urls, unique):
    names = [unique("Concurrent") for _ in range(50)]
    barrier = threading.Barrier(50)
    limits = httpx.Limits(max_connections=50)

    with httpx.Client(base_url=service_urls["records"], limits=limits, timeout=60) as client:

        def create(name: str) -> httpx.Response:
            barrier.wait()
            return client.post(
                "/cases", json={"case_name": name, "cause_number": name, "court_name": "Court"}
            )

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(create, names))

    assert [r.status_code for r in responses] == [201] * 50, {r.text for r in responses}
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 50
    listed = {c["id"]: c["case_name"] for c in created(records.get("/cases"), 200)}
    assert {listed[i] for i in ids} == set(names)


def test_concurrent_saves_of_one_version_one_wins_and_no_version_is_skipped(
    records, service_urls, case
):
    draft = created(records.post("/drafts", json={"case_id": case["id"], "title": "v1"}))
    writers, rounds = 4, 5

    with httpx.Client(base_url=service_urls["records"], timeout=60) as client:
        for round_ in range(rounds):
            version = round_ + 1
            barrier = threading.Barrier(writers)

            def save(writer: int, version: int = version, barrier=barrier) -> httpx.Response:
                barrier.wait()
                return client.put(
                    f"/drafts/{draft['id']}",
                    json={"version": version, "title": f"v{version + 1} by writer {writer}"},
                )

            with ThreadPoolExecutor(max_workers=writers) as pool:
                statuses = sorted(r.status_code for r in pool.map(save, range(writers)))
            assert statuses == [200] + [409] * (writers - 1), f"round {round_}: {statuses}"

    versions = created(records.get(f"/drafts/{draft['id']}/versions"), 200)
    assert [v["version"] for v in versions] == list(range(1, rounds + 2))
    final = created(records.get(f"/drafts/{draft['id']}"), 200)
    assert (final["version"], final["title"]) == (rounds + 1, versions[-1]["title"])


def test_a_thousand_evidence_items_in_one_request_and_listed_in_one(records, case):
    items = [{"case_id": case["id"], "description": f"Exhibit page {n}"} for n in range(1000)]

    made = created(records.post("/evidence-batches", json={"items": items}))
    listed = created(records.get("/evidence", params={"case_id": case["id"]}), 200)

    assert len(made) == 1000
    assert len({item["id"] for item in made}) == 1000
    assert [item["id"] for item in listed] == [item["id"] for item in made]
    assert [item["description"] for item in listed] == [item["description"] for item in items]
