"""Every configured Alembic history, checked on the session's back end.

One test per check (`harness.migrations._checks`): `records:stairway[0003]` fails naming what
differs; a check the history declares it cannot pass (an irreversible downgrade) is skipped
with the reason.
"""

from __future__ import annotations

import pytest


def test_migration(migration_result):
    if migration_result.status == "skipped":
        pytest.skip(migration_result.detail)
    assert migration_result.status == "passed", migration_result.detail
