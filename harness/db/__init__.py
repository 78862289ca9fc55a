"""The databases of a run: provisioned on SQLite or a throwaway PostgreSQL cluster,
migrated to head with Alembic (a SQLite run copies what unchanged migrations made last
time), cloned per test."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.db._alembic import (
        EnvSettings,
        History,
        connected,
        one_line,
        writes_recorded,
    )
    from harness.db._clones import DatabaseTemplate, ScratchDatabases, scratch_for
    from harness.db._databases import (
        DatabaseActivity,
        activity,
        admin_conninfo,
        never_used,
        provision,
        release,
        remove_data_dir,
        service_url,
    )
    from harness.db._migrated import migrate_all
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
