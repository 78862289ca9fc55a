"""Benchmark: a fresh database per test, cloned from a migrated template, per back end,
beside the bare copy on the same server in the same run.

For SQLite the bare copy is a file copy of the template; for PostgreSQL (a throwaway
cluster, or HARNESS_POSTGRES_URL) a bare `CREATE DATABASE … TEMPLATE` on one held
connection (the server's default strategy, and FILE_COPY where the clone uses it). Clone
and bare copy alternate, so both see the same load; `clone_ratio` is the median of the
paired ratios. Prints and saves (JSON) every sample.

    python benchmarks/databases.py [--clones 50] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from psycopg import sql
from sqlalchemy.engine import make_url

from harness.config import HarnessConfig, load_config
from harness.db import DatabaseTemplate, scratch_for
from harness.db import _databases as databases
from harness.infra import DatabaseRecord
from harness.stack import Stack

ROOT = Path(__file__).parents[1]


def timed(make: Callable[[], str], drop: Callable[[str], None]) -> float:
    """Seconds `make` took; what it made is dropped untimed."""
    started = time.perf_counter()
    made = make()
    elapsed = time.perf_counter() - started
    drop(made)
    return elapsed


def bare_copies(
    record: DatabaseRecord, template_url: str, directory: Path
) -> dict[str, tuple[Callable[[], str], Callable[[str], None]]]:
    """The bare copies to compare a clone with: (make, drop) by name."""
    if record.backend == "sqlite":
        source = template_url.removeprefix("sqlite:///")
        target = str(directory / "bare.sqlite3")
        return {"file copy": (lambda: shutil.copyfile(source, target), os.unlink)}
    connection = databases.admin_connection(databases.admin_conninfo(record), "the server")
    template = make_url(template_url).database or ""

    def copy(strategy: str | None) -> tuple[Callable[[], str], Callable[[str], None]]:
        def make() -> str:
            name = f"{record.name}_bare"
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
            if strategy:
                statement += sql.SQL(" STRATEGY " + strategy)
            connection.execute(statement)
            return name

        return make, lambda name: databases.drop_on(connection, name)

    copies = {"CREATE DATABASE TEMPLATE": copy(None)}
    strategy = databases.copy_strategy(record, connection)
    if strategy:
        copies[f"… STRATEGY {strategy}"] = copy(strategy)
    return copies


def measure(config: HarnessConfig, backend: str, clones: int) -> dict[str, object]:
    stack = Stack(config, f"bench-clones-{backend}")
    state = stack.up(backend, auto_ports=True, database_only=True)
    try:
        assert state.database is not None
        with tempfile.TemporaryDirectory() as directory:
            scratch = scratch_for(config, state.database, "bench", Path(directory))
            template = DatabaseTemplate(config, scratch)
            try:
                bare = bare_copies(state.database, template.url, Path(directory))
                clone_times: list[float] = []
                bare_times: dict[str, list[float]] = {name: [] for name in bare}
                for _ in range(clones + 1):  # the first pair warms up
                    clone_times.append(timed(template.clone, template.drop))
                    for name, (make, drop) in bare.items():
                        bare_times[name].append(timed(make, drop))
            finally:
                template.close()
    finally:
        report = stack.down()
        if not report.ok:
            raise SystemExit(f"teardown problems: {report.problems}")
    clone_times = clone_times[1:]
    result: dict[str, object] = {
        "clone_median_ms": round(statistics.median(clone_times) * 1000, 3),
        "clone_ms": [round(t * 1000, 3) for t in clone_times],
        "bare": {},
    }
    reference = next(iter(bare_times))
    for name, times in bare_times.items():
        times = times[1:]
        ratio = statistics.median(c / b for c, b in zip(clone_times, times, strict=True))
        result["bare"][name] = {  # type: ignore[index]
            "median_ms": round(statistics.median(times) * 1000, 3),
            "clone_ratio": round(ratio, 3),
            "ms": [round(t * 1000, 3) for t in times],
        }
        if name == reference:
            result["clone_ratio"] = round(ratio, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=50)
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "databases.json"))
    args = parser.parse_args()
    config = load_config(ROOT / "pyproject.toml")
    config.make_importable()  # the migrations run here
    results = {backend: measure(config, backend, args.clones) for backend in ("sqlite", "postgres")}
    print(f"median of {args.clones} clones, each paired with the bare copies right after it")
    for backend, result in results.items():
        print(f"{backend:9} clone {result['clone_median_ms']:7.2f} ms")
        for name, bare in result["bare"].items():  # type: ignore[attr-defined]
            print(
                f"{'':9} {name:<30} {bare['median_ms']:7.2f} ms   "
                f"clone / this: {bare['clone_ratio']:.2f} (median of paired ratios)"
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"clones": args.clones, "load_average": os.getloadavg(), "results": results}
    out.write_text(json.dumps(summary, indent=2))
    print(f"samples saved to {out}")


if __name__ == "__main__":
    main()
