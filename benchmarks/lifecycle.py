"""Benchmark: `services.up` against its physical floor, `services.down`, and the kill of a
service that ignores SIGTERM; per back end.

Each round measures, in the same process and back to back, every service started alone
(its dependencies dropped: health needs none of them) and then the whole stack. The floor
of a round is the larger of the slowest service's spawn-to-healthy alone and the CPU all
services spend before they are healthy (their imports, mostly) divided by the cores; a
round's `floor_ratio` is the whole stack's up over it. Prints and saves (JSON) the median
of the rounds' ratios per back end, with every sample; PostgreSQL runs on a warm
throwaway cluster (its initdb cached).

    python benchmarks/lifecycle.py [--runs 5] [--grace 1.0]
        [--out reports/benchmarks/lifecycle.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from harness.config import HarnessConfig, load_config, parse_config
from harness.infra import RunState
from harness.settings import POSTGRES_URL_VARIABLE
from harness.stack import Stack

ROOT = Path(__file__).parents[1]
STUBBORN = ROOT / "tests" / "fixtures" / "app.py"


@dataclass
class Cycle:
    """One up/down cycle: its times, the state once up, and each service's CPU seconds
    spent by then."""

    up: float
    down: float
    state: RunState
    cpu: dict[str, float]


def cycle(config: HarnessConfig, backend: str, run_id: str) -> Cycle:
    stack = Stack(config, run_id)
    started = time.perf_counter()
    state = stack.up(backend, auto_ports=True)
    up = time.perf_counter() - started
    cpu = {}
    for record in state.services.values():
        times = psutil.Process(record.process.pid).cpu_times()
        cpu[record.name] = times.user + times.system
    started = time.perf_counter()
    report = stack.down()
    down = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"teardown problems: {report.problems}")
    return Cycle(up, down, state, cpu)


def timed_cycle(config: HarnessConfig, backend: str, run_id: str) -> tuple[float, float]:
    """(seconds to all-healthy, seconds to down) for one up/down cycle."""
    done = cycle(config, backend, run_id)
    return done.up, done.down


def alone(config: HarnessConfig, name: str) -> HarnessConfig:
    """The config with only `name` and the servers it needs (the services it depends on
    dropped: health needs none of them; a worker cannot start without its Redis)."""
    service = config.services[name]
    servers = tuple(d for d in service.depends_on if d in config.servers)
    solo = replace(service, depends_on=servers)
    return replace(
        config,
        services={name: solo},
        servers={s: config.servers[s] for s in servers},
        stubs={s: config.stubs[s] for s in servers if s in config.stubs},
    )


def floor(config: HarnessConfig, backend: str, cores: int) -> dict[str, float]:
    """Each service alone, one after another: the slowest spawn-to-healthy, the CPU they
    spend until healthy ÷ cores, and the floor (the larger)."""
    healthy_after, total_cpu = {}, 0.0
    for name in config.services:
        done = cycle(alone(config, name), backend, f"bench-alone-{name}")
        healthy_after[name] = done.state.services[name].healthy_after or 0.0
        total_cpu += done.cpu[name]
    slowest = max(healthy_after.values())
    return {
        "slowest_alone": slowest,
        "cpu_per_core": total_cpu / cores,
        "floor": max(slowest, total_cpu / cores),
        "chain": max(chain(config, name, healthy_after) for name in config.services),
    }


def chain(config: HarnessConfig, name: str, healthy_after: dict[str, float]) -> float:
    """The longest `depends_on` chain ending at `name`, in spawn-to-healthy seconds alone:
    what no start that waits for dependencies can beat (not part of the floor)."""
    dependencies = [d for d in config.services[name].depends_on if d in config.services]
    before = max((chain(config, d, healthy_after) for d in dependencies), default=0.0)
    return before + healthy_after[name]


def measure(config: HarnessConfig, backend: str, runs: int, cores: int) -> dict[str, object]:
    cycle(config, backend, f"bench-{backend}")  # warm-up: bytecode, page cache, initdb
    rounds = []
    for _ in range(runs):
        figures = floor(config, backend, cores)
        whole = cycle(config, backend, f"bench-{backend}")
        ratio = whole.up / figures["floor"]
        rounds.append({**figures, "up": whole.up, "down": whole.down, "floor_ratio": ratio})
    return {
        "floor_ratio": statistics.median(r["floor_ratio"] for r in rounds),
        "up_median": statistics.median(r["up"] for r in rounds),
        "floor_median": statistics.median(r["floor"] for r in rounds),
        "chain_median": statistics.median(r["chain"] for r in rounds),
        "down_median": statistics.median(r["down"] for r in rounds),
        "rounds": rounds,
    }


def stubborn_kill(root: Path, grace: float, runs: int) -> dict[str, object]:
    """`down` of one service that ignores SIGTERM, with a stop grace of `grace` seconds:
    the time beyond the grace it takes to be killed and its port free."""
    command = ["{python}", str(STUBBORN), "--port", "{port}", "--mode", "ignore-term"]
    table = {"services": {"stubborn": {"command": command, "stop_timeout": grace}}}
    config = parse_config(table, root=root)
    beyond = [cycle(config, "sqlite", "bench-stubborn").down - grace for _ in range(runs)]
    return {"grace": grace, "beyond_grace_median": statistics.median(beyond), "beyond": beyond}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--grace", type=float, default=1.0)
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmarks" / "lifecycle.json"))
    args = parser.parse_args()
    os.environ.pop(POSTGRES_URL_VARIABLE, None)
    config = load_config(ROOT / "pyproject.toml")
    config.make_importable()  # the migrations run here
    cores = len(os.sched_getaffinity(0))
    results = {backend: measure(config, backend, args.runs, cores) for backend in config.backends}
    kill = stubborn_kill(ROOT, args.grace, args.runs)
    print(f"{len(config.services)} services, {cores} cores, median of {args.runs} rounds")
    print(f"{'back end':<10} {'up':>8} {'floor':>8} {'up/floor':>9} {'down':>8} {'chain':>8}")
    for backend, figures in results.items():
        print(
            f"{backend:<10} {figures['up_median']:>7.3f}s {figures['floor_median']:>7.3f}s "
            f"{figures['floor_ratio']:>9.2f} {figures['down_median']:>7.3f}s "
            f"{figures['chain_median']:>7.3f}s"
        )
    print("chain: the longest depends_on chain of spawn-to-healthy times alone (not the floor)")
    print(f"a service ignoring SIGTERM is killed in grace + {kill['beyond_grace_median']:.3f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "runs": args.runs,
                "cores": cores,
                "load_average": os.getloadavg(),
                "results": results,
                "sigterm_ignored": kill,
            },
            indent=2,
        )
    )
    print(f"samples saved to {out}")


if __name__ == "__main__":
    main()
