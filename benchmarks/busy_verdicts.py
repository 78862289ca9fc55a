"""Benchmark: are the perf verdicts right on a busy machine? The four-cell experiment.

Cells: the clean tree and a tree whose case creation sleeps 150 ms more (a copy of the
services, patched), each on the machine as it is ("quiet") and with two CPU-hog busy
loops running ("busy"). Each cell starts the reference stack, runs one scenario with the
project's budgets through `harness.perf._verdicts.judge` (which re-measures a breach the
machine may have caused; the quiet calibration is the committed baseline's, if any) and
prints every budget that did not simply hold, the calibration and the machine's figures.
Right: the clean tree fails nothing, quiet or busy; the slow tree fails case creation's
p95, quiet or busy. Every figure goes to JSON.

    python benchmarks/busy_verdicts.py [--db sqlite]
        [--scenario drafting] [--cells clean/quiet,slow/busy] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.config._project import HarnessConfig, load_config
from harness.perf import _assessment as perf
from harness.perf import _verdicts as verdicts
from harness.perf._budgets import load_budgets
from harness.perf._results import PerfResults
from harness.perf._scenarios import load_plan
from harness.stack._stack import Stack

ROOT = Path(__file__).parents[1]
CELLS = ["clean/quiet", "slow/quiet", "clean/busy", "slow/busy"]
SLOWDOWN = (
    "def create_case(body: schemas.CaseIn, session: DB) -> models.Case:\n",
    "def create_case(body: schemas.CaseIn, session: DB) -> models.Case:\n"
    "    import time\n\n    time.sleep(0.15)  # planted by benchmarks/busy_verdicts.py\n",
)


@contextmanager
def tree(slow: bool) -> Iterator[HarnessConfig]:
    """The project's config; for `slow`, of a copy whose case creation sleeps 150 ms."""
    if not slow:
        yield load_config(ROOT / "pyproject.toml")
        return
    with tempfile.TemporaryDirectory(prefix="busy-verdicts-") as scratch:
        copy = Path(scratch)
        for name in ("pyproject.toml", "services", "perf", "contracts"):
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, copy / name)
        (copy / "harness").mkdir()  # named by the config's coverage gates; not imported
        app = copy / "services/records/app.py"
        text = app.read_text()
        assert SLOWDOWN[0] in text, "case creation's handler moved: update SLOWDOWN"
        app.write_text(text.replace(*SLOWDOWN))
        yield load_config(copy / "pyproject.toml")


@contextmanager
def hogs(count: int) -> Iterator[None]:
    """`count` busy loops, stopped by pid on the way out."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.terminate()
            loop.wait(10)


def cell(name: str, db: str, scenario: str) -> dict:
    kind, load = name.split("/")
    with tree(kind == "slow") as config:
        config.make_importable()
        plan = load_plan(config)
        budgets = [
            b
            for b in load_budgets(config.perf.budgets, plan, set(config.services), db)
            if b.scenario == scenario
        ]
        path = config.perf.baseline(db)
        baseline = (
            PerfResults.load(path).scenarios[scenario].run_calibration_p50_ms
            if path.exists()
            else []
        )
        stack = Stack(config, f"busy-verdicts-{kind}")
        state = stack.up(db, auto_ports=True)
        try:
            with hogs(2 if load == "busy" else 0):
                judged = verdicts.judge(
                    functools.partial(perf.measure_scenario, plan, state, scenario, print),
                    budgets,
                    baseline,
                    progress=print,
                )
        finally:
            stack.down()
    result = judged.result
    return {
        "cell": name,
        "attempts": judged.attempts,
        "failed": [v.text for v in judged.verdicts if v.status == "broke"],
        "inconclusive": [v.text for v in judged.verdicts if v.status == "inconclusive"],
        "case creation p95 ms": result.requests["case creation"].percentiles_ms["p95"]
        if "case creation" in result.requests
        else None,
        "calibration p50 ms (before, after)": [
            result.run_calibration_p50_ms[-1],
            result.calibration_after_p50_ms[-1],
        ],
        "others_share": result.others_share[-1],
        "wait_ratio": result.wait_ratio[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--scenario", default="drafting")
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks/busy_verdicts.json"))
    arguments = parser.parse_args()
    rows = [cell(name, arguments.db, arguments.scenario) for name in arguments.cells.split(",")]
    for row in rows:
        verdict = "FAIL" if row["failed"] else "inconclusive" if row["inconclusive"] else "pass"
        print(
            f"{row['cell']:<12} {verdict:<13} attempts {row['attempts']}, case creation p95 "
            f"{row['case creation p95 ms']:.0f} ms, calibration p50 "
            f"{row['calibration p50 ms (before, after)'][0]:.2f}/"
            f"{row['calibration p50 ms (before, after)'][1]:.2f} ms, others "
            f"{row['others_share']:.0%}, wait ratio {row['wait_ratio']:.2f}"
        )
        for line in row["failed"] + row["inconclusive"]:
            print(f"    {line}")
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"saved {arguments.out}")


if __name__ == "__main__":
    main()
