"""Benchmark: a fresh database per test, cloned from a migrated template, per back end.

For SQLite and PostgreSQL (a throwaway cluster, or HARNESS_POSTGRES_URL), prints the
median time of `clone()` over N clones, beside the baseline measured in the same process:
a new empty database migrated from base with every service's history. Saves every sample
as JSON.

    python benchmarks/databases.py [--clones 50] [--baseline 10] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import databases
from harness.clones import DatabaseTemplate, scratch_for
from harness.config import HarnessConfig, load_config
from harness.migrations import migrate_all
from harness.stack import Stack
from harness.state import DatabaseRecord

ROOT = Path(__file__).parents[1]


def samples(count: int, make: Callable[[int], str], drop: Callable[[str], None]) -> list[float]:
    """Seconds taken by each of `count` calls of `make`; each result dropped untimed."""
    times = []
    for number in range(count):
        started = time.perf_counter()
        made = make(number)
        times.append(time.perf_counter() - started)
        drop(made)
    return times


def fresh_and_migrated(
    config: HarnessConfig, record: DatabaseRecord, directory: Path
) -> tuple[Callable[[int], str], Callable[[str], None]]:
    """The baseline: make a new empty database and migrate it; and how to drop one."""
    if record.backend == "sqlite":

        def make_file(number: int) -> str:
            url = f"sqlite:///{directory / f'fresh-{number}.sqlite3'}"
            migrate_all(config, url)
            return url

        return make_file, lambda url: Path(url.removeprefix("sqlite:///")).unlink()
    conninfo = databases.admin_conninfo(record)

    def make_database(number: int) -> str:
        name = f"{record.name}_f{number}"
        databases.create_database(conninfo, name, "the benchmark's server")
        migrate_all(config, databases.service_url(record, config, name))
        return name

    return make_database, lambda name: databases.drop_database(conninfo, name)


def measure(config: HarnessConfig, backend: str, clones: int, baseline: int) -> dict[str, object]:
    stack = Stack(config, f"bench-clones-{backend}")
    state = stack.up(backend, auto_ports=True)
    try:
        assert state.database is not None
        with tempfile.TemporaryDirectory() as directory:
            scratch = scratch_for(config, state.database, "bench", Path(directory))
            template = DatabaseTemplate(config, scratch)
            try:
                clone_times = samples(clones, lambda _: template.clone(), template.drop)
            finally:
                template.close()
            make, drop = fresh_and_migrated(config, state.database, Path(directory))
            fresh_times = samples(baseline, make, drop)
    finally:
        report = stack.down()
        if not report.ok:
            raise SystemExit(f"teardown problems: {report.problems}")
    clone_median, fresh_median = statistics.median(clone_times), statistics.median(fresh_times)
    return {
        "clone_ms": [round(t * 1000, 3) for t in clone_times],
        "fresh_and_migrated_ms": [round(t * 1000, 3) for t in fresh_times],
        "clone_median_ms": round(clone_median * 1000, 3),
        "fresh_and_migrated_median_ms": round(fresh_median * 1000, 3),
        "speedup": round(fresh_median / clone_median, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "databases.json"))
    args = parser.parse_args()
    config = load_config(ROOT / "pyproject.toml")
    results = {}
    for backend in ("sqlite", "postgres"):
        results[backend] = measure(config, backend, args.clones, args.baseline)
        result = results[backend]
        print(
            f"{backend:9} clone median {result['clone_median_ms']:8.2f} ms over {args.clones}  "
            f"fresh+migrate median {result['fresh_and_migrated_median_ms']:8.2f} ms over "
            f"{args.baseline}  ({result['speedup']}x)"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"clones": args.clones, "results": results}, indent=2))
    print(f"samples saved to {out}")


if __name__ == "__main__":
    main()
