"""Benchmark: court e-filing status webhooks end to end, per back end, on a stack of its own.

Sends `--events` status events across 20 cases at `--rate` per second (each case's events in
order), waits until the worker applied them all, and prints: the latency from accepted
(`received_at`, stamped by filings) to applied (`applied_at`, by filings-worker in the
transaction) at p50/p95/p99; Redis's own time per call of each command the flow uses
(`INFO commandstats`) and a client's PING round trip, the anchor: the flow's p50 is also
printed as a number of PING round trips measured in the same run; the CPU seconds and RSS
of filings, filings-worker and redis-server over the run. Saves every figure as JSON.

    python benchmarks/filings_flow.py [--events 3000] [--rate 150] [--backend sqlite|postgres]
        [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import redis

from harness.config import load_config
from harness.infra import RunState
from harness.stack import private_run

ROOT = Path(__file__).parents[1]
CASES = 20
PROCESSES = ("filings", "filings-worker", "redis")
COMMANDS = ("evalsha", "xreadgroup", "xack", "xdel", "xinfo")


def send(url: str, case_id: int, count: int, interval: float, run: str) -> None:
    """`count` events for one case, one every `interval` seconds on a fixed schedule."""
    start = time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as client:
        for n in range(count):
            time.sleep(max(0.0, start + n * interval - time.monotonic()))
            event = {"event_id": f"{run}-{case_id}-{n}", "case_id": case_id}
            event |= {"envelope_id": f"ENV-{case_id}", "status": "under_review"}
            while (answer := client.post("/webhooks/efiling", json=event)).status_code == 503:
                time.sleep(float(answer.headers["Retry-After"]))
            answer.raise_for_status()


def applied(url: str, case_id: int) -> list[dict]:
    return httpx.get(f"{url}/cases/{case_id}/filing-events", timeout=30).json()


def all_applied(url: str, cases: range, expected: int) -> list[dict]:
    """Every case's applied events, once `expected` of them are."""
    while len(events := [e for c in cases for e in applied(url, c)]) < expected:
        time.sleep(0.2)
    return events


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2)}


def process_of(state: RunState, name: str) -> psutil.Process:
    record = state.servers[name] if name in state.servers else state.services[name]
    return psutil.Process(record.process.pid)


def measure(backend: str, events: int, rate: float) -> dict[str, object]:
    config = load_config(ROOT / "pyproject.toml")
    config.make_importable()  # the migrations run here
    with private_run(
        config, f"bench-filings-{backend}", backend, lambda r: print(r.problems), auto_ports=True
    ) as state:
        url = state.services["filings"].url
        server = redis.Redis.from_url(state.servers["redis"].url)
        processes = {name: process_of(state, name) for name in PROCESSES}
        cpu_before = {name: sum(p.cpu_times()[:2]) for name, p in processes.items()}
        server.config_resetstat()
        run, base = uuid.uuid4().hex[:8], 1_000_000 + os.getpid() % 1000 * 1000
        per_case = events // CASES
        started = time.monotonic()
        with ThreadPoolExecutor(CASES) as senders:
            list(
                senders.map(
                    lambda c: send(url, c, per_case, CASES / rate, run), range(base, base + CASES)
                )
            )
        sent_in = time.monotonic() - started
        events = all_applied(url, range(base, base + CASES), per_case * CASES)
        latencies = [
            (
                datetime.fromisoformat(e["applied_at"]) - datetime.fromisoformat(e["received_at"])
            ).total_seconds()
            * 1000
            for e in events
        ]
        stats = server.info("commandstats")
        pings = []
        for _ in range(1000):
            tick = time.perf_counter()
            server.ping()
            pings.append((time.perf_counter() - tick) * 1000)
        resources = {
            name: {
                "cpu_seconds": round(sum(p.cpu_times()[:2]) - cpu_before[name], 2),
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
            }
            for name, p in processes.items()
        }
    flow, anchor = percentiles(latencies), percentiles(pings)
    return {
        "events": per_case * CASES,
        "sent_per_second": round(per_case * CASES / sent_in, 1),
        "accepted_to_applied_ms": flow,
        # the anchor, measured in the same run: the flow's p50 in Redis round trips
        "accepted_to_applied_p50_in_pings": round(flow["p50"] / anchor["p50"], 1),
        "redis_usec_per_call": {
            name.removeprefix("cmdstat_"): value["usec_per_call"]
            for name, value in stats.items()
            if name.removeprefix("cmdstat_").split("|")[0] in COMMANDS
        },
        "redis_ping_round_trip_ms": anchor,
        "resources": resources,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "filings.json"))
    args = parser.parse_args()
    results = {
        backend: measure(backend, args.events, args.rate)
        for backend in args.backend or ["sqlite", "postgres"]
    }
    for backend, result in results.items():
        print(f"{backend}: {json.dumps(result, indent=2)}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"rate": args.rate, "load_average": os.getloadavg(), "results": results}
    out.write_text(json.dumps(summary, indent=2))
    print(f"figures saved to {out}")


if __name__ == "__main__":
    main()
