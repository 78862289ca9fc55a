"""The reference monorepo's own migration rule: its histories share one database, so each
keeps its own version table (`<service>_alembic_version`), never Alembic's default.

(Every history's checks come with harness: `--harness-suite migrations`.)
"""

from __future__ import annotations

from harness.db import History, connected, service_url


def test_each_history_keeps_its_own_version_table(harness_config, migration_database):
    histories = [History.of(s) for s in harness_config.services.values() if s.migrations]

    with connected(service_url(migration_database, harness_config)) as connection:
        tables = {history.name: history.version_table(connection) for history in histories}

    assert tables == {name: f"{name}_alembic_version" for name in tables}
    assert sorted(tables) == ["exhibits", "facts", "filings", "records"]
