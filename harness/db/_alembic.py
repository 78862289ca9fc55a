"""Alembic, as harness uses it on any project: one history, its scripts loaded once, driven
on a connection harness passes in.

A `History` is what a service's `migrations` key (or a caller) points at: a script directory
or an `alembic.ini`, the import path of the metadata its models declare, and optionally the
lowest revision it can be downgraded to, the revisions that cannot be downgraded, and the
baseline its first revision (or the revision it starts from) expects in the database. Its
env.py must use the connection given in `config.attributes["connection"]` when there is one
(Alembic's "sharing a connection" recipe). While harness runs it so (or offline), any
connection env.py tries to open itself is refused before it reaches a server: an env.py that
builds its own URL (from environment variables, say) never touches the project's own
databases; harness says what to change.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.pool import NullPool

from harness.config import HarnessConfig, ServiceConfig, script_location
from harness.exceptions import ConfigError, MigrationError
from harness.infra import bytecode_cached

READ_ONLY_PREFIXES = ("SELECT", "PRAGMA", "SHOW", "WITH")


@dataclass
class History:
    """One Alembic history; its ScriptDirectory is read once and kept."""

    name: str
    location: Path
    metadata_path: str | None = None
    minimum_downgrade: str | None = None
    heads: tuple[str, ...] | None = None
    irreversible: tuple[str, ...] = ()
    baseline_path: str | None = None
    start_revision: str | None = None
    data_checks: bool = True
    unchecked_tables: tuple[str, ...] = ()
    _config: Config = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._config = self._new_config()

    def _new_config(self, output_buffer: io.StringIO | None = None) -> Config:
        """Alembic's Config: from the alembic.ini `location` names, if it names one (so env.py
        finds `config.config_file_name`, `version_locations` and its other options there)."""
        ini = str(self.location) if self.location.is_file() else None
        config = Config(ini, output_buffer=output_buffer)
        where = str(script_location(self.location)).replace("%", "%%")
        config.set_main_option("script_location", where)
        return config

    @classmethod
    def of(cls, service: ServiceConfig) -> History:
        """The history of a service with `migrations` set."""
        if service.migrations is None:
            raise ConfigError(f"tool.harness.services.{service.name}: no migrations to check")
        return cls(
            service.name,
            service.migrations,
            service.metadata,
            service.minimum_downgrade,
            service.heads,
            service.irreversible,
            service.baseline,
            service.start_revision,
            service.data_checks,
            service.unchecked_tables,
        )

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._config)

    @cached_property
    def metadata(self) -> MetaData | None:
        """The models' metadata, imported from `module:attribute.path`."""
        return None if self.metadata_path is None else import_metadata(self.metadata_path)

    def apply_baseline(self, connection: Connection) -> None:
        """Make what the history expects before its first revision (or its `start_revision`):
        `create_all` of the baseline's MetaData, or the baseline called with `connection`."""
        if self.baseline_path is not None:
            baseline = import_object(self.baseline_path, "baseline", "package.module:metadata")
            if isinstance(baseline, MetaData):
                baseline.create_all(connection)
            elif callable(baseline):
                baseline(connection)
            else:
                raise ConfigError(
                    f"baseline {self.baseline_path!r}: is a {type(baseline).__name__}, not a "
                    "MetaData or a function taking a Connection"
                )
        if self.start_revision is not None:
            self.stamp(connection, self.start_revision)

    @cached_property
    def scripts(self) -> list[Script]:
        """Every revision script, loaded once, straight from the files: unlike the revision
        map, this still works when a revision names a down revision that is missing."""
        return list(self.script._load_revisions())

    def revision(self, revision_id: str) -> Script:
        script = self.script.get_revision(revision_id)
        assert script is not None
        return script

    def upgrade(self, connection: Connection, target: str = "heads") -> MigrationContext:
        """Apply revisions up to `target` on `connection` (not committed)."""
        return self._run(connection, lambda rev: self.script._upgrade_revs(target, rev), target)

    def downgrade(self, connection: Connection, target: str) -> MigrationContext:
        """Undo revisions down to `target` ("base", or a revision that stays applied)."""
        return self._run(connection, lambda rev: self.script._downgrade_revs(target, rev), target)

    def stamp(self, connection: Connection, target: str = "heads") -> MigrationContext:
        """Write `target` to the version table without running anything."""
        return self._run(connection, lambda rev: self.script._stamp_revs(target, rev), target)

    def version_table(self, connection: Connection) -> str:
        """The name env.py gives the version table (run on `connection`, running nothing)."""
        return self.settings(connection).version_table

    def settings(self, connection: Connection) -> EnvSettings:
        """What env.py configures Alembic with (run on `connection`, running no revision)."""
        chosen: dict[str, Any] = {}
        context = self._run(connection, lambda _rev: [], "heads", chosen)
        return EnvSettings(context.version_table, chosen)

    def render_sql(self, dialect: str) -> str:
        """`alembic upgrade heads --sql` for a dialect ("sqlite", "postgresql")."""
        buffer = io.StringIO()
        config = self._new_config(output_buffer=buffer)
        config.set_main_option("sqlalchemy.url", f"{dialect}://")
        with (
            EnvironmentContext(
                config,
                self.script,
                fn=lambda rev, _: self.script._upgrade_revs("heads", rev),
                as_sql=True,
                destination_rev="heads",
            ),
            self._own_connections_refused(),
        ):
            self.script.run_env()
        return buffer.getvalue()

    def upgrade_url(self, url: str) -> None:
        """Apply every revision to the database at `url` (how services are migrated).

        env.py gets both a connection to it in `config.attributes["connection"]` (the
        documented recipe) and the URL as `sqlalchemy.url`; one that connects by itself
        with that URL (Alembic's own template) works too. A connection to anything else
        (a URL built from the project's own settings) is refused before it connects.
        """
        self._config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        with connected(url) as connection:
            self._config.attributes["connection"] = connection
            try:
                with (
                    EnvironmentContext(
                        self._config,
                        self.script,
                        fn=lambda rev, _: self.script._upgrade_revs("heads", rev),
                        destination_rev="heads",
                    ),
                    self._own_connections_refused(allowed=url),
                ):
                    self.script.run_env()
            finally:
                del self._config.attributes["connection"]

    def _run(
        self,
        connection: Connection,
        steps: Callable[[Any], Any],
        target: str,
        chosen: dict[str, Any] | None = None,
    ) -> MigrationContext:
        """Run env.py on `connection`; the keyword arguments it passes `context.configure`
        are put in `chosen`."""
        kept = chosen if chosen is not None else {}
        url = connection.engine.url.render_as_string(hide_password=False)
        self._config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        self._config.attributes["connection"] = connection
        environment = EnvironmentContext(
            self._config, self.script, fn=lambda rev, _: steps(rev), destination_rev=target
        )
        configure = environment.configure

        def recorded(*args: Any, **kwargs: Any) -> None:
            kept.update(kwargs)
            configure(*args, **kwargs)

        environment.configure = recorded  # type: ignore[method-assign]
        try:
            with environment, self._own_connections_refused():
                self.script.run_env()
                context = environment.get_context()
        finally:
            del self._config.attributes["connection"]
        if context.connection is not connection:
            raise MigrationError(self._own_connection_problem())
        return context

    @contextmanager
    def _own_connections_refused(self, allowed: str | None = None) -> Iterator[None]:
        """While the block runs, any new database connection, from any engine, fails before it
        reaches a server (harness's own connection is open already), but for one to the
        `allowed` URL's database with the same connect arguments."""

        def refuse(dialect: Any, _record: Any, args: Any, params: Any) -> None:
            if allowed is not None:
                expected_args, expected_params = dialect.create_connect_args(make_url(allowed))
                if (list(args), params) == (list(expected_args), expected_params):
                    return
            raise MigrationError(
                f"{self._own_connection_problem()}; it tried to open a {dialect.name} "
                "connection of its own, which harness refused before it connected"
            )

        event.listen(Engine, "do_connect", refuse)
        try:
            yield
        finally:
            event.remove(Engine, "do_connect", refuse)

    def _own_connection_problem(self) -> str:
        return (
            f"{self.script.dir}/env.py did not use the connection harness passed it: "
            "when config.attributes['connection'] is set, env.py must call "
            "context.configure(connection=that connection) instead of making its own "
            "(Alembic cookbook: 'Sharing a Connection across one or more programmatic "
            "migration commands')"
        )


@dataclass(frozen=True)
class EnvSettings:
    """What a history's env.py configures Alembic with: the version table, and the keyword
    arguments it passed `context.configure` (its own choices, defaults left out)."""

    version_table: str
    chosen: dict[str, Any]


def import_metadata(path: str) -> MetaData:
    """`package.module:Base.metadata` -> that MetaData object."""
    value = import_object(path, "metadata", "package.module:Base.metadata")
    if not isinstance(value, MetaData):
        raise ConfigError(f"metadata {path!r}: is a {type(value).__name__}, not a MetaData")
    return value


def import_object(path: str, option: str, example: str) -> Any:
    """`package.module:attribute.path` -> that object; a ConfigError naming `option` if not."""
    module_name, _, attributes = path.partition(":")
    if not module_name or not attributes:
        raise ConfigError(f"{option} {path!r}: write it as {example!r}")
    try:
        value: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{option} {path!r}: cannot import {module_name}: {exc}") from exc
    for attribute in attributes.split("."):
        if not hasattr(value, attribute):
            raise ConfigError(f"{option} {path!r}: {module_name} has no {attributes}")
        value = getattr(value, attribute)
    return value


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A connection of its own to `url` (no pool left behind); committed on success."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
            connection.commit()
    finally:
        engine.dispose()


@contextmanager
def writes_recorded(connection: Connection) -> Iterator[list[str]]:
    """Every statement sent on `connection` that is not a read, while the block runs."""
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(READ_ONLY_PREFIXES):
            writes.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        event.remove(connection, "before_cursor_execute", record)


def upgrade_to_head(location: Path, url: str, label: str) -> None:
    """Apply every revision of the history at `location`; one-line error on failure."""
    try:
        History(label, location).upgrade_url(url)
    except Exception as exc:
        raise MigrationError(
            f"migrations of {label!r} ({location}) failed: {one_line(exc)}"
        ) from exc


def apply_histories(config: HarnessConfig, url: str) -> None:
    """Apply every service's history to the database at `url`, in config order (their
    imports' bytecode cached, `harness.infra.bytecode_cached`, unless the config says not);
    `harness.db.migrate_all` first looks for a copy of what they made last time."""
    cached: AbstractContextManager[None] = (
        bytecode_cached(config.run_dir, config.root) if config.bytecode_cache else nullcontext()
    )
    with cached:
        for service in config.services.values():
            if service.migrations is not None:
                upgrade_to_head(service.migrations, url, service.name)


def one_line(exc: BaseException) -> str:
    """`ExceptionType: first line of its message`."""
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text.splitlines()[0] if text else ''}"
