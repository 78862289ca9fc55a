"""Benchmark: `services.up` to all-healthy and `services.down`, per back end.

Prints medians of N runs (and saves every sample as JSON) for SQLite, PostgreSQL with a
cold cluster (no cached initdb) and a warm one, beside the serial baseline: the sum of
starting each service alone, one after another, measured in the same process.

    python benchmarks/lifecycle.py [--runs 5] [--out reports/benchmarks/lifecycle.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from harness.config import HarnessConfig, load_config
from harness.databases import POSTGRES_URL_VARIABLE
from harness.stack import Stack

ROOT = Path(__file__).parents[1]


def timed_cycle(config: HarnessConfig, backend: str, run_id: str) -> tuple[float, float]:
    """(seconds to all-healthy, seconds to down) for one up/down cycle."""
    stack = Stack(config, run_id)
    started = time.perf_counter()
    stack.up(backend, auto_ports=True)
    up = time.perf_counter() - started
    started = time.perf_counter()
    report = stack.down()
    down = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"teardown problems: {report.problems}")
    return up, down


def alone(config: HarnessConfig, name: str) -> HarnessConfig:
    """The config with only `name` (its dependencies dropped: health needs none of them)."""
    service = config.services[name]
    solo = type(service)(**{**service.__dict__, "depends_on": ()})
    return type(config)(**{**config.__dict__, "services": {name: solo}})


def measure(runs: int, cycle: Callable[[], tuple[float, float]]) -> dict[str, object]:
    cycle()  # warm-up: imports, bytecode, page cache
    samples = [cycle() for _ in range(runs)]
    ups, downs = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "up_median": statistics.median(ups),
        "down_median": statistics.median(downs),
        "up": ups,
        "down": downs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "lifecycle.json"))
    args = parser.parse_args()
    os.environ.pop(POSTGRES_URL_VARIABLE, None)
    config = load_config(ROOT / "pyproject.toml")
    cache = config.run_dir / "postgres"

    def cold_postgres() -> tuple[float, float]:
        shutil.rmtree(cache, ignore_errors=True)
        return timed_cycle(config, "postgres", "bench-pg-cold")

    def serial(backend: str) -> tuple[float, float]:
        totals = [
            timed_cycle(alone(config, name), backend, f"bench-alone-{name}")
            for name in config.services
        ]
        return sum(t[0] for t in totals), sum(t[1] for t in totals)

    results = {
        "sqlite": measure(args.runs, lambda: timed_cycle(config, "sqlite", "bench-sqlite")),
        "sqlite, each service alone (sum)": measure(args.runs, lambda: serial("sqlite")),
        "postgres, cold cluster": measure(args.runs, cold_postgres),
        "postgres, warm cluster": measure(
            args.runs, lambda: timed_cycle(config, "postgres", "bench-pg-warm")
        ),
        "postgres warm, each service alone (sum)": measure(args.runs, lambda: serial("postgres")),
    }
    print(f"{'case':<42} {'up (median)':>12} {'down (median)':>14}   runs={args.runs}")
    for case, figures in results.items():
        print(f"{case:<42} {figures['up_median']:>11.3f}s {figures['down_median']:>13.3f}s")
    sqlite = (
        results["sqlite"]["up_median"] / results["sqlite, each service alone (sum)"]["up_median"]
    )
    postgres = (
        results["postgres, warm cluster"]["up_median"]
        / results["postgres warm, each service alone (sum)"]["up_median"]
    )
    print(f"up, whole stack / sum of services alone: sqlite {sqlite:.2f}, postgres {postgres:.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    print(f"samples saved to {out}")


if __name__ == "__main__":
    main()
