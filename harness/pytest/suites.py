"""The test suites harness ships in `harness/suites`, driven by `[tool.harness]` alone:
`pytest --harness-suite NAME`.

- `contracts`: for every service with `openapi` set, the drift and breaking-change gates
  and schemathesis' generated tests over its checked-in contract; for every service with
  `asyncapi` set, the same two gates over its stream contract;
- `migrations`: every check of every configured Alembic history;
- `perf`: the budgets, baseline comparison and generator health of the perf scenarios.
"""

from __future__ import annotations

from pathlib import Path

SUITES_DIR = Path(__file__).parents[1] / "suites"
SUITES = {
    "contracts": ("contracts.py", "streams.py", "generated.py"),
    "migrations": ("migrations.py",),
    "perf": ("perf.py",),
}


def suite_files(name: str) -> list[str]:
    """The test modules of suite `name`, as paths pytest collects."""
    return [str(SUITES_DIR / module) for module in SUITES[name]]
