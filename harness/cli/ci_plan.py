"""The CI matrix, from `nox -l --json`: one job per session, times its shards.

    nox -l --json | python -m harness.cli.ci_plan --shards contracts=2 --exclude report

prints `{"include": [...]}` for a GitHub Actions matrix. Each job names its Nox session,
its back end, the posargs that pick its shard (`--splits N --group K`, pytest-split) and
an artifact name no other job uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.exceptions import HarnessError
from harness.infra import session_run_id


class PlanError(HarnessError):
    """The sessions or the shard counts given to the planner make no plan."""


def plan(
    sessions: list[dict[str, Any]], shards: dict[str, int], exclude: set[str]
) -> list[dict[str, Any]]:
    """A job per session and shard; `shards` maps a session name to its number of shards."""
    names = {session["name"] for session in sessions}
    for name in [*shards, *exclude]:
        if name not in names:
            raise PlanError(f"no Nox session named {name!r}; sessions: {sorted(names)}")
    jobs = []
    for session in sessions:
        if session["name"] in exclude:
            continue
        db = (session.get("call_spec") or {}).get("db", "")
        count = shards.get(session["name"], 1)
        for group in range(1, count + 1):
            sharded = count > 1
            run = session_run_id(session["name"], db, (group, count) if sharded else None)
            posargs = f"--splits {count} --group {group}" if sharded else ""
            jobs.append(
                {
                    "title": run,
                    "session": session["session"],
                    "db": db,
                    "postgres": db == "postgres",
                    "posargs": posargs,
                    "artifact": f"reports-{run}",
                }
            )
    return jobs


def _shard_count(text: str) -> tuple[str, int]:
    name, _, count = text.partition("=")
    if not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected SESSION=N with N >= 1, got {text!r}")
    return name, int(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=_shard_count, action="append", default=[])
    parser.add_argument("--exclude", action="append", default=[], metavar="SESSION")
    arguments = parser.parse_args(argv)
    try:
        sessions = json.load(sys.stdin)
        jobs = plan(sessions, dict(arguments.shards), set(arguments.exclude))
    except (ValueError, KeyError, TypeError) as exc:
        print(f"harness.cli.ci_plan: stdin is not `nox -l --json` output: {exc!r}", file=sys.stderr)
        return 2
    except PlanError as exc:
        print(f"harness.cli.ci_plan: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"include": jobs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
