"""Run a command several times in a row with CPU-hog busy loops running: the toolkit's
proof that its verdicts do not depend on a quiet machine.

Prints each run's exit status and wall time and the machine's load average, saves them
as JSON, and exits non-zero unless every run passed. The hogs are stopped by pid.

    python benchmarks/under_hogs.py --hogs 2 --times 3 -- \\
        nox -s tests "perf(db='sqlite')" "perf(db='postgres')"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--times", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks/under_hogs.json"))
    parser.add_argument("command", nargs="+")
    arguments = parser.parse_args()
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(arguments.hogs)
    ]
    runs = []
    try:
        for number in range(1, arguments.times + 1):
            started = time.perf_counter()
            status = subprocess.run(arguments.command).returncode
            runs.append(
                {
                    "run": number,
                    "status": status,
                    "seconds": round(time.perf_counter() - started, 1),
                    "load_average": os.getloadavg(),
                }
            )
            print(f"run {number} of {arguments.times}: exit {status}, {runs[-1]['seconds']} s")
    finally:
        for loop in loops:
            loop.terminate()
            loop.wait(10)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps({"command": arguments.command, "runs": runs}, indent=1))
    passed = sum(run["status"] == 0 for run in runs)
    print(f"{passed} of {len(runs)} runs passed with {arguments.hogs} hogs; saved {arguments.out}")
    sys.exit(0 if passed == len(runs) else 1)


if __name__ == "__main__":
    main()
