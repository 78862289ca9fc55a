"""Benchmark: wall time of a whole `nox` run beside the sum of the pytest runs inside it.

Each repeat runs `nox` (venvs reused) and reads every run's pytest time from its JUnit
file (the suite's `time`, pytest's own session time); the rest is Nox, installs, invoke,
services up and down, lint and the report. Prints medians and saves every sample.

    python benchmarks/nox_run.py [--repeats 3] [--out FILE.json] [-- NOX ARGS]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).parents[1]
JUNIT = ROOT / "reports" / "junit"
OUT = ROOT / "reports" / "benchmarks" / "nox_run.json"


def pytest_seconds() -> dict[str, float]:
    """Each run's pytest time, from reports/junit/<run>.xml (lifecycle suites left out)."""
    return {
        path.stem: sum(float(s.get("time", 0)) for s in ET.parse(path).getroot().iter("testsuite"))
        for path in sorted(JUNIT.glob("*.xml"))
        if not path.stem.endswith(".lifecycle")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("nox_args", nargs="*")
    arguments = parser.parse_args()
    samples = []
    for repeat in range(arguments.repeats):
        started = time.perf_counter()
        finished = subprocess.run(["nox", *arguments.nox_args], cwd=ROOT)
        wall = time.perf_counter() - started
        runs = pytest_seconds()
        samples.append({"wall": wall, "exit": finished.returncode, "pytest": runs})
        print(
            f"run {repeat + 1}: nox {wall:.1f} s (exit {finished.returncode}), "
            f"pytest {sum(runs.values()):.1f} s over {len(runs)} runs"
        )
    wall = statistics.median(s["wall"] for s in samples)
    inside = statistics.median(sum(s["pytest"].values()) for s in samples)
    print(f"median: nox {wall:.1f} s, sum of pytest runs {inside:.1f} s, ratio {wall / inside:.2f}")
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(samples, indent=2))


if __name__ == "__main__":
    main()
