"""Every environment variable harness reads or sets, with its default, in one place."""

from __future__ import annotations

import os

RUN_VARIABLE = "HARNESS_RUN"
"""The run a task acts on and a test session attaches to (set by the Nox helpers)."""
DEFAULT_RUN = "default"
"""The run id when neither `--run` nor `$HARNESS_RUN` names one."""
DB_VARIABLE = "HARNESS_DB"
"""The back end a test session uses when `--db` is not given."""
CONTRACTS_BASE_VARIABLE = "HARNESS_CONTRACTS_BASE"
"""The git revision the breaking-change gate judges against when `--contracts-base` is not given."""
POSTGRES_URL_VARIABLE = "HARNESS_POSTGRES_URL"
"""An existing PostgreSQL server to use instead of a throwaway cluster."""
RUN_ID_VARIABLE = "HARNESS_RUN_ID"
"""Set in each service's environment: the id of the run it belongs to."""
RUN_TOKEN_VARIABLE = "HARNESS_RUN_TOKEN"
"""Set in each process harness starts: the secret that proves the process is the run's."""


def run_id(given: str | None = None) -> str:
    """The run to act on: `given`, else `$HARNESS_RUN`, else the default run."""
    return given or os.environ.get(RUN_VARIABLE) or DEFAULT_RUN
