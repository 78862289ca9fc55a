"""Benchmark: how many planted bugs the live suites catch — a mutation score per service.

cosmic-ray's operators make the mutants (one change each) of every service's modules
(`services/<name>/*.py`, migrations aside); a seeded sample of `--per-service` of them is
tried per service. A service's mutants form one batch over one stack: for each mutant its
file is rewritten, only the processes running that service's code restart (filings and
filings-worker for services/filings), so they run the mutant, and each package's
oracle runs against the stack: `contracts` (the service's contract tests and its generated
tests) and `workflows` (the workflow files that name the service), each stopping at the
first failure. The file is restored after every mutant and the service restarted clean at
the end of the batch. Sound because each test makes its own data (`unique`, fresh cases):
rows a mutant wrote are never another test's input, and every Redis of the run is emptied
before each mutant, so no answer cached by other code answers for it (caselaw caches each
text's citations; a citation mutant once 'survived' that way). A mutant whose service
cannot start is killed at start. Prints the score per service and package and every survivor with
file:line and its diff; saves JSON.

    pip install cosmic-ray
    python benchmarks/mutation_score.py [--per-service 3] [--seed 20261201] [--db sqlite]
        [--out reports/benchmarks/mutation.json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis
from cosmic_ray.ast import ast_nodes, get_ast_from_path
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator, operator_names

from harness.config import HarnessConfig, load_config
from harness.exceptions import HarnessError
from harness.stack import Stack

ROOT = Path(__file__).parents[1]
PACKAGES = ("contracts", "workflows")
ORACLE_TIMEOUT = 600.0  # a mutant that loops forever is killed, not waited for


@dataclass(frozen=True)
class Mutant:
    path: str
    operator: str
    occurrence: int
    line: int


@dataclass
class Outcome:
    mutant: Mutant
    killed_by: dict[str, bool | None] = field(default_factory=dict)
    diff: str = ""

    @property
    def survived(self) -> bool:
        return not any(self.killed_by.values())


def mutants_of(service: str) -> list[Mutant]:
    """Every single-change mutant cosmic-ray's operators make of the service's modules."""
    found = []
    for path in sorted((ROOT / "services" / service).glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = get_ast_from_path(path)
        for name in operator_names():
            operator_class = get_operator(name)
            if operator_class.arguments():
                continue  # parameterised operators need a config; the plain ones suffice
            operator = operator_class()
            positions = [
                start
                for node in ast_nodes(module)
                for start, _ in operator.mutation_positions(node)
            ]
            found += [
                Mutant(str(path.relative_to(ROOT)), name, occurrence, line)
                for occurrence, (line, _) in enumerate(positions)
            ]
    return found


def oracles(service: str) -> dict[str, list[str]]:
    """pytest arguments of each package's oracle for one service."""
    named = re.compile(rf"\b{re.escape(service)}\b")
    workflows = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "workflows").glob("test_*.py"))
        if named.search(path.read_text())
    ]
    return {
        "contracts": [
            f"contracts/test_{service}.py",
            f"harness/suites/generated.py::test_{service}",
        ],
        "workflows": workflows,
    }


def killed(run_id: str, arguments: list[str]) -> bool | None:
    """True when the oracle fails (or hangs) against the stack of run `run_id`; None when
    the package has no test of the service."""
    if not arguments:
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("COVERAGE_PROCESS_START",)}
    env["HARNESS_RUN"] = run_id
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *arguments]
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, timeout=ORACLE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return True
    return result.returncode != 0


def code_folders(config: HarnessConfig) -> list[str]:
    """The services with code of their own under services/ (a second process of one, like
    filings-worker, runs its folder's code)."""
    return sorted(name for name in config.services if (ROOT / "services" / name).is_dir())


def runners_of(folder: str, config: HarnessConfig) -> list[str]:
    """The stack's services whose process runs the folder's code: all restart per mutant."""
    module = f"services.{folder}."
    return sorted(
        name
        for name, service in config.services.items()
        if name == folder or any(module in part for part in service.command)
    )


def rewrite(path: Path, text: str) -> None:
    """Write `text` to `path` with a modification time a whole second after the last one
    Python may have compiled: a bytecode cache is valid for the same size and the same
    second, so a same-size mutant (`|` to `^`) restored within a second would otherwise
    run on, stale, after its file was put back."""
    before = path.stat().st_mtime
    path.write_text(text)
    later = max(time.time(), before) + 1
    os.utime(path, (later, later))


def forget_server_state(stack: Stack) -> None:
    """Empty every Redis of the run before a mutant runs: an answer cached by the code
    before it (caselaw caches each text's citations) would hide the mutant from a test
    that sends the same text. (The filings worker makes its consumer group again.)"""
    for name, record in stack.run.load().servers.items():
        if stack.config.servers[name].is_redis:
            with redis.Redis.from_url(record.url) as client:
                client.flushall()


def batch(service: str, sample: list[Mutant], backend: str) -> list[Outcome]:
    """Every mutant of one service against one stack, the processes running its code
    restarted per mutant."""
    config = load_config(ROOT / "pyproject.toml")
    config.make_importable()  # the migrations import services.*
    runners = runners_of(service, config)
    stack = Stack(config, f"mutation-{service}-{os.getpid()}")
    stack.up(backend, auto_ports=True)
    outcomes = []
    try:
        for mutant in sample:
            path = ROOT / mutant.path
            original = path.read_text()
            mutated = mutate_code(original, get_operator(mutant.operator)(), mutant.occurrence)
            outcome = Outcome(mutant)
            if mutated is None:
                continue
            outcome.diff = "".join(
                difflib.unified_diff(
                    original.splitlines(keepends=True), mutated.splitlines(keepends=True), n=0
                )
            )
            try:
                rewrite(path, mutated)
                forget_server_state(stack)
                try:
                    for runner in runners:
                        stack.restart(runner)
                except HarnessError:
                    outcome.killed_by = dict.fromkeys(PACKAGES, True)  # cannot even start
                else:
                    outcome.killed_by = {
                        package: killed(stack.run_id, arguments)
                        for package, arguments in oracles(service).items()
                    }
            finally:
                rewrite(path, original)
            outcomes.append(outcome)
            print(f"  {mutant.path}:{mutant.line} {mutant.operator} -> {outcome.killed_by}")
        for runner in runners:
            stack.restart(runner)
    finally:
        stack.down()
    return outcomes


def package_score(outcomes: list[Outcome], package: str) -> float | None:
    """The share of mutants `package` killed, among those it has a test for (None: none)."""
    judged = [o.killed_by[package] for o in outcomes if o.killed_by.get(package) is not None]
    return sum(map(bool, judged)) / len(judged) if judged else None


def percentages(scores: dict[str, float | None]) -> str:
    return " ".join("        —" if s is None else f"{s:>9.0%}" for s in scores.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-service", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--services", nargs="*", help="default: every service")
    parser.add_argument("--out", type=Path, default=ROOT / "reports/benchmarks/mutation.json")
    args = parser.parse_args()
    services = args.services or code_folders(load_config(ROOT / "pyproject.toml"))
    started = time.perf_counter()
    results: dict[str, list[Outcome]] = {}
    population = {}
    for service in services:
        every = mutants_of(service)
        population[service] = len(every)
        sample = sorted(
            random.Random(f"{args.seed}:{service}").sample(
                every, min(args.per_service, len(every))
            ),
            key=lambda m: (m.path, m.line, m.operator, m.occurrence),
        )
        print(f"{service}: {len(sample)} of {len(every)} mutants")
        results[service] = batch(service, sample, args.db)
    elapsed = time.perf_counter() - started

    report = {"seed": args.seed, "db": args.db, "seconds": round(elapsed, 1), "services": {}}
    print(f"\n{'service':<10} {'mutants':>7} {'score':>6} " + " ".join(f"{p:>9}" for p in PACKAGES))
    for service, outcomes in results.items():
        count = len(outcomes) or 1
        score = sum(not o.survived for o in outcomes) / count
        per_package = {p: package_score(outcomes, p) for p in PACKAGES}
        print(f"{service:<10} {len(outcomes):>7} {score:>6.0%} " + percentages(per_package))
        report["services"][service] = {
            "population": population[service],
            "tried": len(outcomes),
            "score": score,
            "per_package": per_package,
            "outcomes": [
                {**asdict(o.mutant), "killed_by": o.killed_by, "diff": o.diff} for o in outcomes
            ],
        }
    everything = [o for outcomes in results.values() for o in outcomes]
    total = sum(not o.survived for o in everything) / (len(everything) or 1)
    per_package = {p: package_score(everything, p) for p in PACKAGES}
    print(f"{'all':<10} {len(everything):>7} {total:>6.0%} " + percentages(per_package))
    print(f"({elapsed:.0f} s, --db {args.db})")
    print("\nsurvivors:")
    for outcome in (o for o in everything if o.survived):
        print(f"  {outcome.mutant.path}:{outcome.mutant.line} {outcome.mutant.operator}")
        print("    " + "\n    ".join(outcome.diff.splitlines()[2:]))
    report["score"] = total
    report["per_package"] = per_package
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nsaved {args.out}")


if __name__ == "__main__":
    main()
