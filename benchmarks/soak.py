"""Soak: N up/down cycles per back end, and what each cycle leaves behind.

For SQLite, PostgreSQL on a throwaway cluster (one per cycle, as a Nox session gets) and
PostgreSQL on a server given by URL (a database per cycle), prints per cycle the time to
all-healthy and to down, and after it: this process's open fds, threads and RSS, the
processes the soak started that are still alive, the run directories and port
reservations left, and the databases on the server (or the cluster data directories
left). The growth line compares the last cycle with the first: it must be 0 but for RSS
noise. Every sample is saved as JSON.

    python benchmarks/soak.py [--cycles 20] [--config pyproject.toml]
        [--backend sqlite --backend postgres --backend postgres-url]
        [--out reports/benchmarks/soak.json]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg
from lifecycle import timed_cycle  # benchmarks/lifecycle.py, beside this script

from harness.config import HarnessConfig, load_config
from harness.db import admin_conninfo
from harness.infra import TMPFS, processes_carrying
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack import Stack

ROOT = Path(__file__).parents[1]
MARKER = "HARNESS_SOAK"
BACKENDS = ("sqlite", "postgres", "postgres-url")
FIGURES = ("fds", "threads", "rss_mb", "processes", "run_dirs", "reservations", "databases")


def entries(directory: Path) -> int:
    return len(list(directory.iterdir())) if directory.is_dir() else 0


def databases_on(url: str | None, run_prefix: str) -> int:
    """Databases on the server at `url`; without one, cluster data directories the soak's
    runs left on tmpfs or in the run directory."""
    if url is None:
        return len(list(TMPFS.glob(f"harness-{run_prefix}*")))
    with psycopg.connect(url, autocommit=True) as admin:
        return len(admin.execute("SELECT datname FROM pg_database").fetchall())


def sample(config: HarnessConfig, marker: str, url: str | None, run_prefix: str) -> dict[str, Any]:
    me = psutil.Process()
    return {
        "fds": entries(Path("/proc/self/fd")),
        "threads": threading.active_count(),
        "rss_mb": me.memory_info().rss / 2**20,
        "processes": len(processes_carrying(MARKER, marker)),
        "run_dirs": entries(config.run_dir / "runs"),
        "reservations": entries(config.run_dir / "ports"),
        "databases": databases_on(url, run_prefix),
    }


@contextmanager
def server_url(config: HarnessConfig, backend: str) -> Iterator[str | None]:
    """For postgres-url, a cluster brought up once as the 'server' the cycles use."""
    if backend != "postgres-url":
        os.environ.pop(POSTGRES_URL_VARIABLE, None)
        yield None
        return
    os.environ.pop(POSTGRES_URL_VARIABLE, None)
    stack = Stack(config, "soak-server")
    state = stack.up("postgres", database_only=True, detach=True)
    assert state.database is not None
    url = admin_conninfo(state.database)
    os.environ[POSTGRES_URL_VARIABLE] = url
    try:
        yield url
    finally:
        os.environ.pop(POSTGRES_URL_VARIABLE, None)
        stack.down()


def soak(config: HarnessConfig, backend: str, cycles: int, marker: str) -> list[dict[str, Any]]:
    """`cycles` up/down cycles (after one warm-up), one sample each."""
    rows = []
    run_id = f"soak-{backend}"
    with server_url(config, backend) as url:
        db = "sqlite" if backend == "sqlite" else "postgres"
        for number in range(cycles + 1):
            up, down = timed_cycle(config, db, run_id)
            if number == 0:
                continue  # warm-up: imports, bytecode, the initdb cache
            row = {"cycle": number, "up_s": up, "down_s": down}
            row.update(sample(config, marker, url, run_id))
            rows.append(row)
            print(
                f"{backend:<13} {number:>4} {up:>7.2f}s {down:>7.2f}s "
                + " ".join(f"{row[name]:>8.1f}" for name in FIGURES),
                flush=True,
            )
    return rows


def growth(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {name: rows[-1][name] - rows[0][name] for name in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--config", default=str(ROOT / "pyproject.toml"))
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "soak.json"))
    args = parser.parse_args()
    if args.cycles < 2:
        raise SystemExit(
            "soak: --cycles must be at least 2 (growth compares the last with the first)"
        )
    config = load_config(args.config)
    config.make_importable()  # the migrations run here
    marker = uuid.uuid4().hex
    os.environ[MARKER] = marker  # every process a cycle starts inherits it
    print(
        f"{'back end':<13} {'cycle':>4} {'up':>8} {'down':>8} "
        + " ".join(f"{n:>8}" for n in FIGURES)
    )
    results: dict[str, dict[str, Any]] = {}
    for backend in args.backend or BACKENDS:
        rows = soak(config, backend, args.cycles, marker)
        results[backend] = {"cycles": rows, "growth": growth(rows)}
    print("growth, last cycle against the first:")
    for backend, result in results.items():
        figures = ", ".join(f"{name} {value:+.1f}" for name, value in result["growth"].items())
        print(f"  {backend:<13} {figures}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"cycles": args.cycles, "config": args.config, "results": results}, indent=2)
    )
    print(f"samples saved to {out}")


if __name__ == "__main__":
    main()
