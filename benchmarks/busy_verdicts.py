"""Benchmark: are the perf verdicts right on a busy machine? The four-cell experiment.

Cells: the clean tree and a tree whose case creation sleeps 150 ms more (a copy of the
services, patched), each on the machine as it is ("quiet") and with two CPU-hog busy
loops running ("busy"). Each cell starts the reference stack, runs one scenario with the
project's budgets through `harness.perf._verdicts.judge` (which re-measures a breach the
machine may have caused; the quiet calibration is the committed baseline's, if any) and
prints every budget that did not simply hold, the calibration and the machine's figures.
Right: the clean tree fails nothing, quiet or busy; the slow tree fails case creation's
p95, quiet or busy. Every figure goes to JSON.

Two more kinds of cell test the regression gate's yardstick (the calibration request
under the scenario's load, `harness.perf._loaded_calibration`): "cpu", a tree whose case
creation burns 2 ms more CPU (a regression too small for the budgets), and "quota", the
stack and this generator held to 1.5 CPUs by a cgroup of their own (root; cgroup v1's
cpu controller or v2), a machine slower under load only. For each request the cell
prints its p50 against the baseline's slowest run: raw, relative to the lone
calibration and relative to the calibration under load. Right: "cpu" raises case
creation's last figure by well over 20% and no other request's; "quota" raises the raw
figures and not the last one.

    python benchmarks/busy_verdicts.py [--db sqlite]
        [--scenario drafting] [--cells clean/quiet,cpu/quota] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from harness.config._project import HarnessConfig, load_config
from harness.perf import _assessment as perf
from harness.perf import _verdicts as verdicts
from harness.perf._budgets import load_budgets
from harness.perf._results import PerfResults, ScenarioResult
from harness.perf._scenarios import load_plan
from harness.stack._stack import Stack

ROOT = Path(__file__).parents[1]
CELLS = ["clean/quiet", "slow/quiet", "clean/busy", "slow/busy"]
HANDLER = "def create_case(body: schemas.CaseIn, session: DB) -> models.Case:\n"
SLOWDOWNS = {  # planted at the top of case creation's handler
    "slow": "    import time\n\n    time.sleep(0.15)  # planted by benchmarks/busy_verdicts.py\n",
    "cpu": "    import time\n\n    begun = time.perf_counter()\n"
    "    while time.perf_counter() - begun < 0.002:  # planted by benchmarks/busy_verdicts.py\n"
    "        pass\n",
}
QUOTA_CPUS = 1.5


@contextmanager
def tree(kind: str) -> Iterator[HarnessConfig]:
    """The project's config; for a kind of `SLOWDOWNS`, of a copy with it planted."""
    if kind not in SLOWDOWNS:
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
        assert HANDLER in text, "case creation's handler moved: update HANDLER"
        app.write_text(text.replace(HANDLER, HANDLER + SLOWDOWNS[kind]))
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


@contextmanager
def quota(cpus: float) -> Iterator[None]:
    """This process and its children (the stack) held to `cpus` CPUs by a cgroup of their
    own, moved back to the root cgroup and the cgroup removed on the way out."""
    v1 = Path("/sys/fs/cgroup/cpu")
    root = v1 if (v1 / "cgroup.procs").exists() else Path("/sys/fs/cgroup")
    group = root / f"busy-verdicts-{os.getpid()}"
    group.mkdir()
    try:
        if root == v1:
            (group / "cpu.cfs_period_us").write_text("100000")
            (group / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
        else:
            (group / "cpu.max").write_text(f"{int(cpus * 100000)} 100000")
        members = [psutil.Process(), *psutil.Process().children(recursive=True)]
        _move([str(member.pid) for member in members], group)
        try:
            yield
        finally:
            _move((group / "cgroup.procs").read_text().split(), root)
    finally:
        group.rmdir()


def _move(pids: list[str], group: Path) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # exited since it was listed
            (group / "cgroup.procs").write_text(pid)


def against_baseline(result: ScenarioResult, baseline: PerfResults | None) -> dict:
    """Each request's p50 over the baseline's slowest run: raw, per lone calibration, per
    calibration under load (the last only when both sides measured it)."""
    before = baseline.scenarios.get(result.name) if baseline else None
    if before is None:
        return {}

    def over(p50: float, anchor: float, stored: list[float], anchors: list[float]) -> float:
        return p50 / anchor / max(s / a for s, a in zip(stored, anchors, strict=True)) - 1

    rows = {}
    loaded = bool(result.loaded_calibration_p50_ms) and len(
        before.loaded_calibration_p50_ms
    ) == len(before.run_calibration_p50_ms)
    for name, request in result.requests.items():
        if name not in before.requests:
            continue
        p50, stored = request.run_p50_ms[-1], before.requests[name].run_p50_ms
        ones = [1.0] * len(stored)
        rows[name] = {
            "raw": over(p50, 1.0, stored, ones),
            "per lone calibration": over(
                p50, result.run_calibration_p50_ms[-1], stored, before.run_calibration_p50_ms
            ),
            "per calibration under load": over(
                p50,
                result.loaded_calibration_p50_ms[-1],
                stored,
                before.loaded_calibration_p50_ms,
            )
            if loaded
            else None,
        }
    return rows


def cell(name: str, db: str, scenario: str) -> dict:
    kind, load = name.split("/")
    with tree(kind) as config:
        config.make_importable()
        plan = load_plan(config)
        budgets = [
            b
            for b in load_budgets(config.perf.budgets, plan, set(config.services), db)
            if b.scenario == scenario
        ]
        path = config.perf.baseline(db)
        baseline = PerfResults.load(path) if path.exists() else None
        before = baseline.scenarios[scenario] if baseline else None
        quiet = before.run_calibration_p50_ms if before else []
        quiet_wait = max(before.wait_ratio, default=0.0) if before else 0.0
        stack = Stack(config, f"busy-verdicts-{kind}")
        state = stack.up(db, auto_ports=True)
        try:
            held = quota(QUOTA_CPUS) if load == "quota" else contextlib.nullcontext()
            with hogs(2 if load == "busy" else 0), held:
                judged = verdicts.judge(
                    functools.partial(perf.measure_scenario, plan, state, scenario, print),
                    budgets,
                    quiet,
                    quiet_wait,
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
        "p50 over the baseline's slowest run": against_baseline(result, baseline),
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
        for request, over in row["p50 over the baseline's slowest run"].items():
            figures = ", ".join(
                f"{anchor} {change:+.0%}" for anchor, change in over.items() if change is not None
            )
            print(f"    {request}: {figures}")
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"saved {arguments.out}")


if __name__ == "__main__":
    main()
