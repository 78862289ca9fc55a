"""Benchmark: harness's load generator beside wrk, in the same run.

1. Ceiling: a closed loop on a trivial FastAPI endpoint (caseblock's GET /health, served
   by uvicorn with uvloop and httptools in several processes, each on a SO_REUSEPORT socket
   of its own so connections spread over them, so the generator and not the server is
   what is measured) at 1, 10 and 50 connections, for harness's runner and for
   wrk: req/s, p99, and each tool's own CPU (% of one core).
2. Accuracy: p50 against harness's delay server answering in exactly 50 ms, at 10
   connections, for both.

The two tools run in pairs, one right after the other; each figure is the median over
`--repeats` pairs, and each comparison (harness / wrk req/s, harness - wrk p50) the median
of the pairs' own ratios or differences, never a ratio of medians. Every sample is saved
as JSON. Needs wrk on PATH (`apt-get install wrk`) and uvloop and httptools.

    python benchmarks/perf_runner.py [--seconds 4] [--repeats 3] [--workers 2] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from harness.infra import PortReservations
from harness.perf import LoadRunner, Phases, Scenario, Step, WeightedRequest
from harness.perf import _latency as latency

ROOT = Path(__file__).parents[1]
CONCURRENCY = (1, 10, 50)


# One uvicorn process of the target on a listening socket of its own (SO_REUSEPORT): the
# kernel spreads connections over the processes by address. With one shared socket, the
# process that woke first took a whole burst of connections, and a run whose 10 connections
# all went to one worker measured that worker, not the load generator.
TARGET_PROCESS = """
import socket, sys, uvicorn, uvloop
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
config = uvicorn.Config(
    "services.caseblock.app:app", http="httptools", access_log=False, log_level="warning"
)
uvloop.run(uvicorn.Server(config).serve(sockets=[listener]))
"""


@contextmanager
def server(commands: list[list[str]], port: int) -> Iterator[str]:
    """Server processes on `port`, stopped (by pid) on the way out; their base URL."""
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        while not all(listening(process.pid, port) for process in processes):
            if time.monotonic() > deadline:  # every process, not just the first to answer
                sys.exit(f"a server process is not listening on port {port}: {commands}")
            time.sleep(0.05)
        yield url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def listening(pid: int, port: int) -> bool:
    return any(
        connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        for connection in psutil.Process(pid).net_connections(kind="tcp")
    )


def harness_run(url: str, path: str, users: int, seconds: float) -> dict[str, float]:
    probe = Scenario(
        name="probe",
        model="closed",
        users=users,
        requests=(WeightedRequest("probe", 1.0, Step("target", "GET", path)),),
        phases=Phases(warmup=0.5, sustain=seconds),
    )
    result = LoadRunner(probe, {"target": url}).run()
    summary = latency.LatencySummary.of(result.requests["probe"].histogram)
    return {
        "rps": result.throughput,
        "p50_ms": summary.percentiles_ms["p50"],
        "p99_ms": summary.percentiles_ms["p99"],
        "runner_cpu_percent": result.runner_cpu_percent,
    }


def wrk_run(url: str, path: str, users: int, seconds: float) -> dict[str, float]:
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    output = subprocess.run(
        ["wrk", "-t1", f"-c{users}", f"-d{round(seconds)}s", "--latency", url + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after, elapsed = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - started
    # only wrk was reaped meanwhile: the servers are children too, but still running
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    figures["runner_cpu_percent"] = 100 * cpu / elapsed
    for name, label in (("p50_ms", "50%"), ("p99_ms", "99%")):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        figures[name] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return figures


TOOLS = (("harness", harness_run), ("wrk", wrk_run))


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def paired(
    samples: dict[str, list[dict[str, float]]], case: str, figure: str, ratio: bool
) -> float:
    """The median over pairs of harness's `figure` over wrk's (or minus, if not `ratio`)."""
    pairs = zip(samples[f"{case} harness"], samples[f"{case} wrk"], strict=True)
    return statistics.median(
        ours[figure] / theirs[figure] if ratio else ours[figure] - theirs[figure]
        for ours, theirs in pairs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes of the target")
    parser.add_argument("--out", type=Path, default=ROOT / "reports/benchmarks/perf_runner.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on PATH: apt-get install wrk")
    if importlib.util.find_spec("uvloop") is None or importlib.util.find_spec("httptools") is None:
        sys.exit("the target server needs uvloop and httptools: pip install uvloop httptools")
    ports = PortReservations.under(ROOT / ".harness")
    run_id = "bench-perf-runner"
    trivial, delayed = ports.free_port(run_id), ports.free_port(run_id)
    python = sys.executable
    samples: dict[str, list[dict[str, float]]] = {}
    target = [[python, "-c", TARGET_PROCESS, str(trivial)]] * args.workers
    with server(target, trivial) as url:
        for users in CONCURRENCY:
            for _ in range(args.repeats):
                for tool, run in TOOLS:
                    sample = run(url, "/health", users, args.seconds)
                    samples.setdefault(f"ceiling c={users} {tool}", []).append(sample)
    delay = [
        python,
        "-m",
        "harness.testing.delay_server",
        "--port",
        str(delayed),
        "--delay-ms",
        "50",
    ]
    with server([delay], delayed) as url:
        for _ in range(args.repeats):
            for tool, run in TOOLS:
                sample = run(url, "/", 10, args.seconds)
                samples.setdefault(f"accuracy 50 ms c=10 {tool}", []).append(sample)
    ports.release_all(run_id)
    summary = {key: medians(runs) for key, runs in samples.items()}
    for key, figures in summary.items():
        shown = ", ".join(f"{name} {value:,.2f}" for name, value in figures.items())
        print(f"{key:<30} {shown}")
    comparisons = {
        f"harness / wrk req/s at c={users}": paired(samples, f"ceiling c={users}", "rps", True)
        for users in CONCURRENCY
    }
    comparisons["harness - wrk p50 ms, 50 ms server, c=10"] = paired(
        samples, "accuracy 50 ms c=10", "p50_ms", False
    )
    for name, value in comparisons.items():
        print(f"{name}: {value:.2f} (median of {args.repeats} pairs)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = {"samples": samples, "medians": summary, "paired": comparisons}
    args.out.write_text(json.dumps({**results, "load_average": os.getloadavg()}, indent=1))
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
