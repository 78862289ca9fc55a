"""Benchmark: the delay server's own cost, beside another version of it in the same run.

The delay server is the load generator's self-check, so what it adds must stay small.
For each version, harness's load generator runs a closed loop at 10 connections:
1. against `--delay-ms 0`: req/s and the server's CPU per request (µs, from psutil);
2. against `--delay-ms 50`: p50 minus the 50 ms it was set to (ms).
The versions run in pairs, one right after the other; each comparison (this / other CPU
per request, this - other p50 excess) is the median of the pairs' own ratios or
differences. The other version is a copy of the module run as a script:

    git show main:harness/testing/delay_server.py > /tmp/delay_server_main.py
    python benchmarks/delay_server.py --against /tmp/delay_server_main.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import psutil
from perf_runner import harness_run, medians, server

from harness.infra import PortReservations

ROOT = Path(__file__).parents[1]
USERS = 10
DELAY_MS = 50.0


def measure(command: list[str], port: int, seconds: float) -> dict[str, float]:
    """One version's figures: req/s and CPU per request at 0 ms, p50 excess at 50 ms."""
    with server([*command, "--port", str(port), "--delay-ms", "0"], port) as (url, pid):
        process = psutil.Process(pid)
        before = sum(process.cpu_times()[:2])
        quick = harness_run(url, "/", USERS, seconds)
        cpu = sum(process.cpu_times()[:2]) - before
    requests = quick["rps"] * seconds  # the sustain phase; warm-up adds a little CPU
    with server([*command, "--port", str(port), "--delay-ms", str(DELAY_MS)], port) as (url, _):
        delayed = harness_run(url, "/", USERS, seconds)
    return {
        "rps_at_0ms": quick["rps"],
        "server_cpu_us_per_request": 1e6 * cpu / requests,
        "p50_excess_ms_at_50ms": delayed["p50_ms"] - DELAY_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another delay_server.py")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "reports/benchmarks/delay_server.json")
    args = parser.parse_args()
    if not args.against.is_file():
        sys.exit(f"--against {args.against}: no such file; write one with git show")
    versions = {
        "this": [sys.executable, "-m", "harness.testing.delay_server"],
        "other": [sys.executable, str(args.against)],
    }
    ports = PortReservations.under(ROOT / ".harness")
    run_id = "bench-delay-server"
    port = ports.free_port(run_id)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    try:
        for _ in range(args.repeats):
            for name, command in versions.items():
                samples[name].append(measure(command, port, args.seconds))
    finally:
        ports.release_all(run_id)
    summary = {name: medians(runs) for name, runs in samples.items()}
    for name, figures in summary.items():
        print(f"{name:<6} " + ", ".join(f"{key} {value:,.2f}" for key, value in figures.items()))
    pairs = list(zip(samples["this"], samples["other"], strict=True))
    paired = {
        "this / other CPU per request": statistics.median(
            a["server_cpu_us_per_request"] / b["server_cpu_us_per_request"] for a, b in pairs
        ),
        "this / other req/s at 0 ms": statistics.median(
            a["rps_at_0ms"] / b["rps_at_0ms"] for a, b in pairs
        ),
        "this - other p50 excess ms at 50 ms": statistics.median(
            a["p50_excess_ms_at_50ms"] - b["p50_excess_ms_at_50ms"] for a, b in pairs
        ),
    }
    for name, value in paired.items():
        print(f"{name}: {value:.3f} (median of {args.repeats} pairs)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = {"against": str(args.against), "samples": samples, "medians": summary}
    args.out.write_text(json.dumps({**results, "paired": paired, "load_average": os.getloadavg()}))
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
