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
from typing import Any, Literal

from harness.config._servers import ServerConfig, parse_servers
from harness.config._stubs import StubConfig, parse_stubs
from harness.config._tables import (
    boolean,
    did_you_mean,
    listening_command,
    names,
    port,
    positive_number,
    reject_unknown,
    string,
    table_at,
)
from harness.exceptions import ConfigError

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")
Outbound = Literal["loopback", "allow"]

_TOP_KEYS = {
    "run_dir",
    "pythonpath",
    "run_dir_outside_project",
    "start_timeout",
    "stop_timeout",
    "backends",
    "services",
    "servers",
    "stubs",
    "outbound",
    "bytecode_cache",
    "postgres",
    "contracts",
    "perf",
    "reports",
}
_SERVICE_KEYS = {
    "command",
    "port",
    "health",
    "depends_on",
    "database",
    "migrations",
    "metadata",
    "minimum_downgrade",
    "heads",
    "irreversible",
    "baseline",
    "start_revision",
    "data_checks",
    "unchecked_tables",
    "start_timeout",
    "stop_timeout",
    "env",
    "openapi",
    "asyncapi",
    "framework_statuses",
    "contract_gaps",
    "generated_examples",
    "prestart",
}
_POSTGRES_KEYS = {"bin_dir", "driver"}
PACKAGE_RESOURCE = re.compile(r"[A-Za-z_][\w.]*:[\w.\-/]+")  # "package:path", as Alembic takes
_CONTRACTS_KEYS = {"dir", "asyncapi_dir", "base_branch", "seed", "examples", "invalid_statuses"}
_PERF_KEYS = {"dir"}
_REPORTS_KEYS = {"dir", "fail_under"}


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
    reject_unknown(table, _TOP_KEYS, "tool.harness")
    start_timeout = positive_number(table, "start_timeout", "tool.harness", 30.0)
    stop_timeout = positive_number(table, "stop_timeout", "tool.harness", 5.0)
    backends = _backends(table.get("backends", list(BACKENDS)))
    services_table = table.get("services")
    if not isinstance(services_table, dict) or not services_table:
        raise ConfigError("tool.harness.services: at least one service is required")
    services = {
        name: _service(name, raw, root, start_timeout, stop_timeout)
        for name, raw in services_table.items()
    }
    servers = parse_servers(table.get("servers", {}), set(services), start_timeout, stop_timeout)
    taken = {**dict.fromkeys(services, "service"), **dict.fromkeys(servers, "server")}
    stubs = parse_stubs(table.get("stubs", {}), taken, root, start_timeout, stop_timeout)
    servers.update({name: stub.server for name, stub in stubs.items()})
    _check_dependencies(services, servers)
    _check_ports([*services.values(), *servers.values()])
    return HarnessConfig(
        root=root,
        run_dir=_run_dir(table, root),
        backends=backends,
        services=services,
        postgres=_postgres(table.get("postgres", {}), root),
        contracts=_contracts(table.get("contracts", {}), root),
        perf=_perf(table.get("perf", {}), root),
        reports=_reports(table.get("reports", {}), root),
        pythonpath=_pythonpath(table["pythonpath"], root) if "pythonpath" in table else (root,),
        servers=servers,
        stubs=stubs,
        outbound=_outbound(table),
        bytecode_cache=boolean(table, "bytecode_cache", "tool.harness", True),
    )


def _run_dir(table: dict[str, Any], root: Path) -> Path:
    """Where harness writes runs/, ports/ and logs/: a directory of its own in the project.

    One outside the project needs `run_dir_outside_project = true`; one that holds the
    project, the home directory, `/` or a top-level directory (`/tmp`) is never taken.
    """
    value = string(table, "run_dir", "tool.harness", ".harness")
    forced = boolean(table, "run_dir_outside_project", "tool.harness", False)
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


def _service(
    name: str, raw: Any, root: Path, start_timeout: float, stop_timeout: float
) -> ServiceConfig:
    key = f"tool.harness.services.{name}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{key}: a service name may only hold letters, digits, '-' and '_'")
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _SERVICE_KEYS, key)
    command = listening_command(
        raw.get("command"),
        f"{key}.command",
        '["{python}", "-m", "uvicorn", "app:app", "--port", "{port}"]',
    )
    fixed_port = port(raw, key)
    health = string(raw, "health", key, "/health")
    if not health.startswith("/"):
        raise ConfigError(f"{key}.health: must be a path starting with '/', got {health!r}")
    depends_on = names(raw, "depends_on", key, "service names")
    database = boolean(raw, "database", key, False)
    migrations = raw.get("migrations")
    location = None
    if migrations is not None:
        if not isinstance(migrations, str):
            raise ConfigError(
                f"{key}.migrations: must be the path of an Alembic script directory or alembic.ini"
            )
        if not database:
            raise ConfigError(f"{key}.migrations: set database = true to apply migrations")
        location = _migrations_location(root, migrations, f"{key}.migrations")
        if not (script_location(location, f"{key}.migrations") / "env.py").is_file():
            raise ConfigError(f"{key}.migrations: no env.py in {location}")
    for option in ("metadata", "minimum_downgrade", "baseline", "start_revision"):
        if raw.get(option) is not None and (not isinstance(raw[option], str) or migrations is None):
            raise ConfigError(f"{key}.{option}: must be a string, and needs migrations set")
    heads = _revision_list(raw, "heads", key, migrations)
    irreversible = _revision_list(raw, "irreversible", key, migrations)
    data_checks = raw.get("data_checks", True)
    if not isinstance(data_checks, bool) or (not data_checks and migrations is None):
        raise ConfigError(f"{key}.data_checks: must be true or false, and needs migrations set")
    unchecked = raw.get("unchecked_tables", [])
    if (
        not isinstance(unchecked, list)
        or not all(isinstance(t, str) for t in unchecked)
        or (unchecked and migrations is None)
    ):
        raise ConfigError(
            f"{key}.unchecked_tables: must be a list of table names, and needs migrations set"
        )
    openapi = raw.get("openapi")
    if openapi is not None and (not isinstance(openapi, str) or not openapi.startswith("/")):
        raise ConfigError(
            f"{key}.openapi: must be the path of the service's OpenAPI document, "
            f"e.g. '/openapi.json', got {openapi!r}"
        )
    asyncapi = raw.get("asyncapi")
    if asyncapi is not None and (not isinstance(asyncapi, str) or not asyncapi.startswith("/")):
        raise ConfigError(
            f"{key}.asyncapi: must be the path of the service's AsyncAPI document, "
            f"e.g. '/asyncapi.json', got {asyncapi!r}"
        )
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ConfigError(f"{key}.env: must be a table of strings")
    for option in ("framework_statuses", "contract_gaps", "generated_examples"):
        if option in raw and openapi is None:
            raise ConfigError(f"{key}.{option}: needs openapi set (the service has no contract)")
    framework_statuses = raw.get("framework_statuses", [])
    if not isinstance(framework_statuses, list) or not all(
        _is_int(code) and 100 <= code <= 599 for code in framework_statuses
    ):
        raise ConfigError(
            f"{key}.framework_statuses: must be a list of HTTP statuses the framework answers "
            f"on any operation, e.g. [405, 422], got {framework_statuses!r}"
        )
    gaps = table_at(raw, "contract_gaps", key)
    if not all(isinstance(reason, str) and reason.strip() for reason in gaps.values()):
        raise ConfigError(
            f"{key}.contract_gaps: give each check the reason the contract cannot satisfy it, "
            'e.g. { positive_data_acceptance = "an upload must be a .docx" }'
        )
    return ServiceConfig(
        name=name,
        command=tuple(command),
        port=fixed_port,
        health=health,
        depends_on=tuple(depends_on),
        database=database,
        migrations=location,
        start_timeout=positive_number(raw, "start_timeout", key, start_timeout),
        stop_timeout=positive_number(raw, "stop_timeout", key, stop_timeout),
        env=dict(env),
        openapi=openapi,
        asyncapi=asyncapi,
        metadata=raw.get("metadata"),
        minimum_downgrade=raw.get("minimum_downgrade"),
        heads=tuple(heads) if heads else None,
        irreversible=tuple(irreversible or ()),
        baseline=raw.get("baseline"),
        start_revision=raw.get("start_revision"),
        data_checks=data_checks,
        unchecked_tables=tuple(unchecked),
        framework_statuses=tuple(framework_statuses),
        contract_gaps=dict(gaps),
        generated_examples=_count(raw, "generated_examples", key),
        prestart=_prestart(raw.get("prestart", []), key),
    )


def _revision_list(raw: dict[str, Any], option: str, key: str, migrations: Any) -> list[str] | None:
    """A non-empty list of revision ids under `option`, or None when it is not set."""
    value = raw.get(option)
    if value is not None and (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) for item in value)
        or migrations is None
    ):
        raise ConfigError(
            f"{key}.{option}: must be a list of revision ids, and needs migrations set"
        )
    return value


def _prestart(raw: Any, key: str) -> tuple[tuple[str, ...], ...]:
    """One command (a list of strings) or several (a list of them), run in order."""
    steps = [raw] if raw and all(isinstance(a, str) for a in raw) else raw
    if not isinstance(steps, list) or not all(
        isinstance(step, list) and step and all(isinstance(a, str) for a in step) for step in steps
    ):
        raise ConfigError(
            f"{key}.prestart: must be a command or a list of commands, each a list of strings, "
            'e.g. ["{python}", "-m", "app.seed"]'
        )
    return tuple(tuple(step) for step in steps)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(raw: dict[str, Any], option: str, key: str) -> int | None:
    """A positive whole number at `option`, or None when it is not set."""
    value = raw.get(option)
    if value is not None and (not _is_int(value) or value < 1):
        raise ConfigError(f"{key}.{option}: must be a whole number of at least 1, got {value!r}")
    return value


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


def _postgres(raw: Any, root: Path) -> PostgresConfig:
    if not isinstance(raw, dict):
        raise ConfigError("tool.harness.postgres: must be a table")
    reject_unknown(raw, _POSTGRES_KEYS, "tool.harness.postgres")
    bin_dir = raw.get("bin_dir")
    return PostgresConfig(
        bin_dir=root / string(raw, "bin_dir", "tool.harness.postgres", "") if bin_dir else None,
        driver=string(raw, "driver", "tool.harness.postgres", PostgresConfig.driver),
    )


def _contracts(raw: Any, root: Path) -> ContractsConfig:
    key = "tool.harness.contracts"
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _CONTRACTS_KEYS, key)
    seed = raw.get("seed", ContractsConfig.seed)
    if not _is_int(seed):
        raise ConfigError(f"{key}.seed: must be a whole number, got {seed!r}")
    return ContractsConfig(
        dir=root / string(raw, "dir", key, "contracts"),
        asyncapi_dir=root / string(raw, "asyncapi_dir", key, "contracts/asyncapi"),
        base_branch=string(raw, "base_branch", key, ContractsConfig.base_branch),
        seed=seed,
        examples=_count(raw, "examples", key) or ContractsConfig.examples,
        invalid_statuses=_invalid_statuses(raw.get("invalid_statuses"), f"{key}.invalid_statuses"),
    )


def _invalid_statuses(value: Any, key: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(_is_int(status) and 400 <= status <= 499 for status in value)
    ):
        raise ConfigError(f"{key}: must be a list of 4xx statuses, e.g. [400, 422], got {value!r}")
    return tuple(value)


def _perf(raw: Any, root: Path) -> PerfConfig:
    key = "tool.harness.perf"
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _PERF_KEYS, key)
    return PerfConfig(dir=root / string(raw, "dir", key, "perf"))


def _reports(raw: Any, root: Path) -> ReportsConfig:
    key = "tool.harness.reports"
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a table")
    reject_unknown(raw, _REPORTS_KEYS, key)
    gates = table_at(raw, "fail_under", key)
    for directory, percent in gates.items():
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 <= percent <= 100
        ):
            raise ConfigError(
                f"{key}.fail_under.{directory}: must be a percentage from 0 to 100, got {percent!r}"
            )
        if not (root / directory).is_dir():
            raise ConfigError(f"{key}.fail_under.{directory}: no such directory under {root}")
    return ReportsConfig(
        dir=root / string(raw, "dir", key, "reports"),
        fail_under={directory: float(percent) for directory, percent in gates.items()},
    )


def _pythonpath(raw: Any, root: Path) -> tuple[Path, ...]:
    key = "tool.harness.pythonpath"
    if not isinstance(raw, list) or not all(isinstance(entry, str) for entry in raw):
        raise ConfigError(f"{key}: must be a list of directories relative to {root}")
    directories = tuple((root / entry).resolve() for entry in raw)
    for directory in directories:
        if not directory.is_dir():
            raise ConfigError(f"{key}: no such directory {directory}")
    return directories


def _outbound(table: dict[str, Any]) -> Outbound:
    value = table.get("outbound", "loopback")
    if value not in ("loopback", "allow"):
        raise ConfigError(
            f"tool.harness.outbound: must be 'loopback' (the run's processes reach only "
            f"127.0.0.1) or 'allow', got {value!r}"
        )
    return "loopback" if value == "loopback" else "allow"


def _backends(raw: Any) -> tuple[Backend, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"tool.harness.backends: must be a non-empty list of {list(BACKENDS)}")
    for name in raw:
        if name not in BACKENDS:
            raise ConfigError(
                f"tool.harness.backends: unknown back end {name!r}; choose from {list(BACKENDS)}"
            )
    return tuple(raw)
