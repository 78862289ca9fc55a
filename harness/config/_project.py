"""`[tool.harness]` in pyproject.toml -> a typed, validated `HarnessConfig`.

Every mistake is reported as one `ConfigError` line that names the offending key,
so a user can fix the table without reading harness's source.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from harness.config._servers import ServerConfig, parse_servers
from harness.config._stubs import StubConfig, parse_stubs
from harness.config._tables import (
    Count,
    Environment,
    Names,
    Port,
    Seconds,
    did_you_mean,
    listening_command,
    member_table,
    typed,
)
from harness.exceptions import ConfigError

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")
Outbound = Literal["loopback", "allow"]

PACKAGE_RESOURCE = re.compile(r"[A-Za-z_][\w.]*:[\w.\-/]+")  # "package:path", as Alembic takes
ServiceCommand = Annotated[
    list[str],
    Meta(
        min_length=1,
        description="must be a command: a non-empty list of strings, e.g. "
        '["{python}", "-m", "uvicorn", "app:app", "--port", "{port}"]',
    ),
]
RevisionIds = Annotated[
    list[str], Meta(min_length=1, description="must be a list of revision ids, not empty")
]
UrlPath = Annotated[str, Meta(pattern="^/", description="must be a path starting with '/'")]
ScriptLocation = Annotated[
    str, Meta(description="must be the path of an Alembic script directory or alembic.ini")
]
OpenApiPath = Annotated[
    str,
    Meta(
        pattern="^/", description="must be the path of the OpenAPI document, e.g. '/openapi.json'"
    ),
]
AsyncApiPath = Annotated[
    str,
    Meta(
        pattern="^/", description="must be the path of the AsyncAPI document, e.g. '/asyncapi.json'"
    ),
]
Statuses = Annotated[
    list[Annotated[int, Meta(ge=100, le=599)]],
    Meta(
        description="must be a list of HTTP statuses the framework answers on any operation, "
        "e.g. [405, 422]"
    ),
]
Reasons = Annotated[
    dict[str, Annotated[str, Meta(pattern=r"\S")]],
    Meta(
        description="must give each check the reason the contract cannot satisfy it, "
        'e.g. { positive_data_acceptance = "an upload must be a .docx" }'
    ),
]
Commands = Annotated[
    list[str | list[str]],
    Meta(
        description="must be a command or a list of commands, each a list of strings, "
        'e.g. ["{python}", "-m", "app.seed"]'
    ),
]
_NEEDS_MIGRATIONS = (
    *("metadata", "minimum_downgrade", "baseline", "start_revision"),
    *("heads", "irreversible", "unchecked_tables"),
)
_NEEDS_OPENAPI = ("framework_statuses", "contract_gaps", "generated_examples")


class _ServiceTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[tool.harness.services.<name>]` as written."""

    command: ServiceCommand
    port: Port | None = None
    health: UrlPath = "/health"
    depends_on: Names = []
    database: bool = False
    migrations: ScriptLocation | None = None
    metadata: str | None = None
    minimum_downgrade: str | None = None
    heads: RevisionIds | None = None
    irreversible: RevisionIds | None = None
    baseline: str | None = None
    start_revision: str | None = None
    data_checks: bool = True
    unchecked_tables: Annotated[list[str], Meta(description="must be a list of table names")] = []
    start_timeout: Seconds | None = None
    stop_timeout: Seconds | None = None
    env: Environment = {}
    openapi: OpenApiPath | None = None
    asyncapi: AsyncApiPath | None = None
    framework_statuses: Statuses | None = None
    contract_gaps: Reasons | None = None
    generated_examples: Count | None = None
    prestart: Commands = []


Directories = Annotated[
    list[str], Meta(description="must be a list of directories relative to the project")
]
Backends = Annotated[
    list[Backend], Meta(min_length=1, description=f"must be a non-empty list of {list(BACKENDS)}")
]
OutboundChoice = Annotated[
    Outbound,
    Meta(description="must be 'loopback' (the run's processes reach only 127.0.0.1) or 'allow'"),
]


class _PostgresTable(msgspec.Struct, forbid_unknown_fields=True):
    bin_dir: str | None = None
    driver: str = "postgresql+psycopg"


class _ContractsTable(msgspec.Struct, forbid_unknown_fields=True):
    dir: str = "contracts"
    asyncapi_dir: str = "contracts/asyncapi"
    base_branch: str = "main"
    seed: int = 20261121
    examples: Count = 10
    invalid_statuses: (
        Annotated[
            list[Annotated[int, Meta(ge=400, le=499)]],
            Meta(min_length=1, description="must be a list of 4xx statuses, e.g. [400, 422]"),
        ]
        | None
    ) = None


class _PerfTable(msgspec.Struct, forbid_unknown_fields=True):
    dir: str = "perf"


class _ReportsTable(msgspec.Struct, forbid_unknown_fields=True):
    dir: str = "reports"
    fail_under: Annotated[
        dict[str, float], Meta(description="must be a table of percentages by directory")
    ] = {}


class _HarnessTable(msgspec.Struct, forbid_unknown_fields=True):
    """`[tool.harness]` as written; members (services, servers, stubs) are read one by one."""

    services: Annotated[
        dict[str, Any], Meta(min_length=1, description="must hold at least one service")
    ]
    run_dir: str = ".harness"
    pythonpath: Directories | None = None
    run_dir_outside_project: bool = False
    start_timeout: Seconds = 30.0
    stop_timeout: Seconds = 5.0
    backends: Backends = msgspec.field(default_factory=lambda: list(BACKENDS))
    servers: dict[str, Any] = {}
    stubs: dict[str, Any] = {}
    outbound: OutboundChoice = "loopback"
    bytecode_cache: bool = True
    migration_cache: bool = True
    postgres: _PostgresTable = msgspec.field(default_factory=_PostgresTable)
    contracts: _ContractsTable = msgspec.field(default_factory=_ContractsTable)
    perf: _PerfTable = msgspec.field(default_factory=_PerfTable)
    reports: _ReportsTable = msgspec.field(default_factory=_ReportsTable)


@dataclass(frozen=True)
class ServiceConfig:
    """One service: how to start it, where it answers, what it needs first."""

    name: str
    command: tuple[str, ...]
    port: int | None
    health: str
    depends_on: tuple[str, ...]
    database: bool
    migrations: Path | None
    start_timeout: float
    stop_timeout: float
    env: dict[str, str] = field(default_factory=dict)
    openapi: str | None = None
    asyncapi: str | None = None
    metadata: str | None = None
    minimum_downgrade: str | None = None
    heads: tuple[str, ...] | None = None
    irreversible: tuple[str, ...] = ()
    baseline: str | None = None
    start_revision: str | None = None
    data_checks: bool = True
    unchecked_tables: tuple[str, ...] = ()
    framework_statuses: tuple[int, ...] = ()
    contract_gaps: dict[str, str] = field(default_factory=dict)
    generated_examples: int | None = None
    prestart: tuple[tuple[str, ...], ...] = ()

    @property
    def url_variable(self) -> str:
        """The environment variable other services find this one by."""
        return f"{self.name.upper().replace('-', '_')}_SERVICE_URL"


@dataclass(frozen=True)
class PostgresConfig:
    """Where to find PostgreSQL binaries and which SQLAlchemy driver services use."""

    bin_dir: Path | None = None
    driver: str = "postgresql+psycopg"


@dataclass(frozen=True)
class ContractsConfig:
    """Where the checked-in contracts live, which branch breaking changes are judged against,
    and the generated tests' seed, examples per operation, and the statuses that refuse a
    request as invalid (None: schemathesis' own list, where any 4xx does)."""

    dir: Path
    asyncapi_dir: Path
    base_branch: str = "main"
    seed: int = 20261121
    examples: int = 10
    invalid_statuses: tuple[int, ...] | None = None


@dataclass(frozen=True)
class PerfConfig:
    """Where the load scenarios, budgets and baselines live."""

    dir: Path

    @property
    def scenarios(self) -> Path:
        return self.dir / "scenarios.toml"

    @property
    def budgets(self) -> Path:
        return self.dir / "budgets.toml"

    def baseline(self, backend: str) -> Path:
        """The stored results a run on `backend` is compared with."""
        return self.dir / "baselines" / f"{backend}.json"


@dataclass(frozen=True)
class ReportsConfig:
    """Where every session's reports go, and the coverage gates of the merged report.

    `fail_under` maps a source directory to the least line-and-branch coverage it needs.
    """

    dir: Path
    fail_under: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HarnessConfig:
    """The whole monorepo as harness sees it."""

    root: Path
    run_dir: Path
    backends: tuple[Backend, ...]
    services: dict[str, ServiceConfig]
    postgres: PostgresConfig
    contracts: ContractsConfig
    perf: PerfConfig
    reports: ReportsConfig
    pythonpath: tuple[Path, ...] = ()
    servers: dict[str, ServerConfig] = field(default_factory=dict)  # stubs' servers included
    stubs: dict[str, StubConfig] = field(default_factory=dict)
    outbound: Outbound = "loopback"  # what the run's processes may reach (harness.stack._outbound)
    bytecode_cache: bool = True  # spawned processes cache bytecode (harness.infra._bytecode)
    migration_cache: bool = True  # runs copy unchanged migrations' result (harness.db._migrated)

    def make_importable(self) -> None:
        """Put `pythonpath` first on sys.path, so the project's own code (env.py, models)
        imports in harness's process as it does in its services, started from the root."""
        for directory in reversed(self.pythonpath):
            if str(directory) not in sys.path:
                sys.path.insert(0, str(directory))

    @property
    def members(self) -> set[str]:
        """The names of its services and servers."""
        return set(self.services) | set(self.servers)

    def under_contract(self) -> list[ServiceConfig]:
        """The services that publish an OpenAPI document, so have a checked-in contract."""
        return [service for service in self.services.values() if service.openapi]

    def contract_path(self, service: str) -> Path:
        """Where the checked-in contract of `service` lives."""
        return self.contracts.dir / f"{service}.json"

    def under_stream_contract(self) -> list[ServiceConfig]:
        """The services that publish an AsyncAPI document (their WebSocket streams)."""
        return [service for service in self.services.values() if service.asyncapi]

    def stream_contract_path(self, service: str) -> Path:
        """Where the checked-in AsyncAPI contract of `service` lives."""
        return self.contracts.asyncapi_dir / f"{service}.json"

    def start_order(self) -> list[list[str]]:
        """Services grouped in dependency levels: each level only needs earlier ones (and
        servers, which are not in the levels)."""
        done: set[str] = set(self.servers)
        levels: list[list[str]] = []
        while len(done) < len(self.services) + len(self.servers):
            level = sorted(
                name
                for name, service in self.services.items()
                if name not in done and set(service.depends_on) <= done
            )
            levels.append(level)
            done.update(level)
        return levels


def load_config(pyproject: Path | str = "pyproject.toml") -> HarnessConfig:
    """Read and validate `[tool.harness]` from a pyproject.toml file."""
    path = Path(pyproject).resolve()
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; run from the monorepo root or pass --config"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; pass its pyproject.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("harness")
    if table is None:
        raise ConfigError(f"{path}: no [tool.harness] table")
    return parse_config(table, root=path.parent)


def parse_config(table: dict[str, Any], root: Path) -> HarnessConfig:
    """Validate a `[tool.harness]` table already read from TOML."""
    harness = typed(table, _HarnessTable, "tool.harness")
    services = {name: _service(name, raw, root, harness) for name, raw in harness.services.items()}
    servers = parse_servers(
        harness.servers, set(services), harness.start_timeout, harness.stop_timeout
    )
    taken = {**dict.fromkeys(services, "service"), **dict.fromkeys(servers, "server")}
    stubs = parse_stubs(harness.stubs, taken, root, harness.start_timeout, harness.stop_timeout)
    servers.update({name: stub.server for name, stub in stubs.items()})
    _check_dependencies(services, servers)
    _check_ports([*services.values(), *servers.values()])
    contracts = harness.contracts
    return HarnessConfig(
        root=root,
        run_dir=_run_dir(harness.run_dir, harness.run_dir_outside_project, root),
        backends=tuple(harness.backends),
        services=services,
        postgres=PostgresConfig(
            bin_dir=root / harness.postgres.bin_dir if harness.postgres.bin_dir else None,
            driver=harness.postgres.driver,
        ),
        contracts=ContractsConfig(
            dir=root / contracts.dir,
            asyncapi_dir=root / contracts.asyncapi_dir,
            base_branch=contracts.base_branch,
            seed=contracts.seed,
            examples=contracts.examples,
            invalid_statuses=_tuple_or_none(contracts.invalid_statuses),
        ),
        perf=PerfConfig(dir=root / harness.perf.dir),
        reports=_reports(harness.reports, root),
        pythonpath=_pythonpath(harness.pythonpath, root) if harness.pythonpath else (root,),
        servers=servers,
        stubs=stubs,
        outbound=harness.outbound,
        bytecode_cache=harness.bytecode_cache,
        migration_cache=harness.migration_cache,
    )


def _run_dir(value: str, forced: bool, root: Path) -> Path:
    """Where harness writes runs/, ports/ and logs/: a directory of its own in the project.

    One outside the project needs `run_dir_outside_project = true`; one that holds the
    project, the home directory, `/` or a top-level directory (`/tmp`) is never taken.
    """
    run_dir = root / value
    where, project = Path(os.path.realpath(run_dir)), Path(os.path.realpath(root))
    refused = _not_a_run_dir(where, project)
    if refused:
        raise ConfigError(
            f"tool.harness.run_dir: {value!r} ({where}) {refused}; harness writes runs/, "
            "ports/ and logs/ into it and needs a directory of its own, e.g. '.harness'"
        )
    if project not in where.parents and not forced:
        raise ConfigError(
            f"tool.harness.run_dir: {value!r} ({where}) is outside the project {project}; use "
            "a directory under it (default '.harness'), or set "
            "tool.harness.run_dir_outside_project = true to keep runs there on purpose"
        )
    return run_dir


def _not_a_run_dir(where: Path, project: Path) -> str:
    """Why `where` may never be a run directory, or ''."""
    if len(where.parts) <= 2:
        return "is a system directory"
    if where == Path(os.path.realpath(Path.home())):
        return "is the home directory"
    if where == project or where in project.parents:
        return "holds the project"
    return ""


def _service(name: str, raw: Any, root: Path, harness: _HarnessTable) -> ServiceConfig:
    key = f"tool.harness.services.{name}"
    raw = member_table(raw, name, "service", {}, key)
    service = typed(raw, _ServiceTable, key)
    command = listening_command(service.command, f"{key}.command")
    location = None
    if service.migrations is not None:
        if not service.database:
            raise ConfigError(f"{key}.migrations: set database = true to apply migrations")
        location = _migrations_location(root, service.migrations, f"{key}.migrations")
        if not (script_location(location, f"{key}.migrations") / "env.py").is_file():
            raise ConfigError(f"{key}.migrations: no env.py in {location}")
    needs = [*_needs("migrations", _NEEDS_MIGRATIONS, raw), *_needs("openapi", _NEEDS_OPENAPI, raw)]
    if not service.data_checks:
        needs += _needs("migrations", ("data_checks",), raw)
    for option, needed in needs:
        raise ConfigError(f"{key}.{option}: needs {needed} set")
    return ServiceConfig(
        name=name,
        command=command,
        port=service.port,
        health=service.health,
        depends_on=tuple(service.depends_on),
        database=service.database,
        migrations=location,
        start_timeout=service.start_timeout or harness.start_timeout,
        stop_timeout=service.stop_timeout or harness.stop_timeout,
        env=service.env,
        openapi=service.openapi,
        asyncapi=service.asyncapi,
        metadata=service.metadata,
        minimum_downgrade=service.minimum_downgrade,
        heads=_tuple_or_none(service.heads),
        irreversible=tuple(service.irreversible or ()),
        baseline=service.baseline,
        start_revision=service.start_revision,
        data_checks=service.data_checks,
        unchecked_tables=tuple(service.unchecked_tables),
        framework_statuses=tuple(service.framework_statuses or ()),
        contract_gaps=service.contract_gaps or {},
        generated_examples=service.generated_examples,
        prestart=_prestart(service.prestart, key),
    )


def _needs(option: str, dependants: tuple[str, ...], raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(dependant, option) for each of `dependants` set in `raw` while `option` is not."""
    return [] if option in raw else [(name, option) for name in dependants if name in raw]


def _prestart(steps: list[str | list[str]], key: str) -> tuple[tuple[str, ...], ...]:
    """One command (a list of strings) or several (a list of them), run in order."""
    arguments = [step for step in steps if isinstance(step, str)]
    if len(arguments) == len(steps):
        return (tuple(arguments),) if arguments else ()
    commands = [step for step in steps if isinstance(step, list) and step]
    if len(commands) != len(steps):
        raise ConfigError(
            f"{key}.prestart: must be a command or a list of commands, each a list of strings, "
            f'e.g. ["{{python}}", "-m", "app.seed"], got {steps!r}'
        )
    return tuple(tuple(step) for step in commands)


def _tuple_or_none(items: list[Any] | None) -> tuple[Any, ...] | None:
    return tuple(items) if items is not None else None


def script_location(location: Path, key: str = "script location") -> Path:
    """The Alembic script directory `location` names: itself, or the one its alembic.ini gives."""
    if not location.is_file():
        return location
    parser = configparser.ConfigParser()
    try:
        parser.read(location)
    except configparser.Error as exc:
        raise ConfigError(f"{key}: {location} is not a readable alembic.ini: {exc}") from None
    if not parser.has_option("alembic", "script_location"):
        raise ConfigError(f"{key}: {location} has no [alembic] script_location")
    value = parser.get("alembic", "script_location", raw=True)
    if PACKAGE_RESOURCE.fullmatch(value):
        return package_directory(value, key)
    return location.parent / value.replace("%(here)s", str(location.parent))


def _migrations_location(root: Path, value: str, key: str) -> Path:
    """`migrations` as a path: below `root`, or inside an installed package ("pkg:dir")."""
    if PACKAGE_RESOURCE.fullmatch(value) and not (root / value).exists():
        return package_directory(value, key)
    return root / value


def package_directory(value: str, key: str) -> Path:
    """The directory "package:path/inside" names (Alembic's package resource form)."""
    package, _, inside = value.partition(":")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"{key}: {value!r} names {package}, which is not an installed package "
            "(install it, or give the directory's path)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / inside


def _check_dependencies(
    services: dict[str, ServiceConfig], servers: dict[str, ServerConfig]
) -> None:
    """Every dependency names a service or a server, and none goes round in a cycle."""
    known = {*services, *servers}
    for service in services.values():
        for dependency in service.depends_on:
            if dependency not in known:
                raise ConfigError(
                    f"tool.harness.services.{service.name}.depends_on: unknown service or "
                    f"server {dependency!r}{did_you_mean(dependency, known)}"
                )
    graph = {name: service.depends_on for name, service in services.items()}
    graph.update({name: server.depends_on for name, server in servers.items()})
    visiting: list[str] = []
    finished: set[str] = set()

    def visit(name: str) -> None:
        if name in finished:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            table = "services" if name in services else "servers"
            raise ConfigError(
                f"tool.harness.{table}.{name}.depends_on: dependency cycle " + " -> ".join(cycle)
            )
        visiting.append(name)
        for dependency in graph[name]:
            visit(dependency)
        visiting.pop()
        finished.add(name)

    for name in graph:
        visit(name)


def _check_ports(members: list[ServiceConfig | ServerConfig]) -> None:
    owners: dict[int, str] = {}
    for member in members:
        if member.port is None:
            continue
        table = member.table if isinstance(member, ServerConfig) else "services"
        if member.port in owners:
            raise ConfigError(
                f"tool.harness.{table}.{member.name}.port: {member.port} is already "
                f"the port of {owners[member.port]!r}"
            )
        owners[member.port] = member.name


def _reports(reports: _ReportsTable, root: Path) -> ReportsConfig:
    for directory, percent in reports.fail_under.items():
        if not 0 <= percent <= 100:
            raise ConfigError(
                f"tool.harness.reports.fail_under.{directory}: must be a percentage from 0 to 100, "
                f"got {percent!r}"
            )
        if not (root / directory).is_dir():
            raise ConfigError(
                f"tool.harness.reports.fail_under.{directory}: no such directory under {root}"
            )
    return ReportsConfig(dir=root / reports.dir, fail_under=reports.fail_under)


def _pythonpath(entries: list[str], root: Path) -> tuple[Path, ...]:
    directories = tuple((root / entry).resolve() for entry in entries)
    for directory in directories:
        if not directory.is_dir():
            raise ConfigError(f"tool.harness.pythonpath: no such directory {directory}")
    return directories
