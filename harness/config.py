"""`[tool.harness]` in pyproject.toml -> a typed, validated `HarnessConfig`.

Every mistake is reported as one `ConfigError` line that names the offending key,
so a user can fix the table without reading harness's source.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.exceptions import ConfigError
from harness.tables import did_you_mean, positive_number, reject_unknown, string, table_at

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")

_TOP_KEYS = {
    "run_dir",
    "run_dir_outside_project",
    "start_timeout",
    "stop_timeout",
    "backends",
    "services",
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
    "start_timeout",
    "stop_timeout",
    "env",
    "openapi",
}
_POSTGRES_KEYS = {"bin_dir", "driver"}
_CONTRACTS_KEYS = {"dir", "base_branch"}
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
    metadata: str | None = None
    minimum_downgrade: str | None = None
    heads: tuple[str, ...] | None = None

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
    """Where the checked-in contracts live and which branch breaking changes are judged against."""

    dir: Path
    base_branch: str = "main"


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

    def under_contract(self) -> list[ServiceConfig]:
        """The services that publish an OpenAPI document, so have a checked-in contract."""
        return [service for service in self.services.values() if service.openapi]

    def contract_path(self, service: str) -> Path:
        """Where the checked-in contract of `service` lives."""
        return self.contracts.dir / f"{service}.json"

    def start_order(self) -> list[list[str]]:
        """Services grouped in dependency levels: each level only needs earlier ones."""
        done: set[str] = set()
        levels: list[list[str]] = []
        while len(done) < len(self.services):
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
    _check_dependencies(services)
    _check_ports(services)
    return HarnessConfig(
        root=root,
        run_dir=_run_dir(table, root),
        backends=backends,
        services=services,
        postgres=_postgres(table.get("postgres", {}), root),
        contracts=_contracts(table.get("contracts", {}), root),
        perf=_perf(table.get("perf", {}), root),
        reports=_reports(table.get("reports", {}), root),
    )


def _run_dir(table: dict[str, Any], root: Path) -> Path:
    """Where harness writes runs/, ports/ and logs/: a directory of its own in the project.

    One outside the project needs `run_dir_outside_project = true`; one that holds the
    project, the home directory, `/` or a top-level directory (`/tmp`) is never taken.
    """
    value = string(table, "run_dir", "tool.harness", ".harness")
    forced = table.get("run_dir_outside_project", False)
    if not isinstance(forced, bool):
        raise ConfigError("tool.harness.run_dir_outside_project: must be true or false")
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
    command = raw.get("command")
    if command is None:
        raise ConfigError(
            f"{key}.command: missing; give the command as a list, e.g. "
            '["{python}", "-m", "uvicorn", "app:app", "--port", "{port}"]'
        )
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise ConfigError(f"{key}.command: must be a non-empty list of strings")
    if not any("{port}" in arg for arg in command):
        raise ConfigError(f"{key}.command: no '{{port}}' placeholder; harness chooses the port")
    port = raw.get("port")
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535
    ):
        raise ConfigError(f"{key}.port: must be an integer from 1024 to 65535, got {port!r}")
    health = string(raw, "health", key, "/health")
    if not health.startswith("/"):
        raise ConfigError(f"{key}.health: must be a path starting with '/', got {health!r}")
    depends_on = raw.get("depends_on", [])
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise ConfigError(f"{key}.depends_on: must be a list of service names")
    database = raw.get("database", False)
    if not isinstance(database, bool):
        raise ConfigError(f"{key}.database: must be true or false")
    migrations = raw.get("migrations")
    if migrations is not None:
        if not isinstance(migrations, str):
            raise ConfigError(
                f"{key}.migrations: must be the path of an Alembic script directory or alembic.ini"
            )
        if not database:
            raise ConfigError(f"{key}.migrations: set database = true to apply migrations")
        if not (script_location(root / migrations, f"{key}.migrations") / "env.py").is_file():
            raise ConfigError(f"{key}.migrations: no env.py in {root / migrations}")
    for option in ("metadata", "minimum_downgrade"):
        if raw.get(option) is not None and (not isinstance(raw[option], str) or migrations is None):
            raise ConfigError(f"{key}.{option}: must be a string, and needs migrations set")
    heads = raw.get("heads")
    if heads is not None and (
        not isinstance(heads, list)
        or not heads
        or not all(isinstance(h, str) for h in heads)
        or migrations is None
    ):
        raise ConfigError(f"{key}.heads: must be a list of revision ids, and needs migrations set")
    openapi = raw.get("openapi")
    if openapi is not None and (not isinstance(openapi, str) or not openapi.startswith("/")):
        raise ConfigError(
            f"{key}.openapi: must be the path of the service's OpenAPI document, "
            f"e.g. '/openapi.json', got {openapi!r}"
        )
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ConfigError(f"{key}.env: must be a table of strings")
    return ServiceConfig(
        name=name,
        command=tuple(command),
        port=port,
        health=health,
        depends_on=tuple(depends_on),
        database=database,
        migrations=root / migrations if migrations else None,
        start_timeout=positive_number(raw, "start_timeout", key, start_timeout),
        stop_timeout=positive_number(raw, "stop_timeout", key, stop_timeout),
        env=dict(env),
        openapi=openapi,
        metadata=raw.get("metadata"),
        minimum_downgrade=raw.get("minimum_downgrade"),
        heads=tuple(heads) if heads else None,
    )


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
    return location.parent / value.replace("%(here)s", str(location.parent))


def _check_dependencies(services: dict[str, ServiceConfig]) -> None:
    for service in services.values():
        for dependency in service.depends_on:
            if dependency not in services:
                raise ConfigError(
                    f"tool.harness.services.{service.name}.depends_on: unknown service "
                    f"{dependency!r}{did_you_mean(dependency, services)}"
                )
    visiting: list[str] = []
    finished: set[str] = set()

    def visit(name: str) -> None:
        if name in finished:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            raise ConfigError(
                f"tool.harness.services.{name}.depends_on: dependency cycle " + " -> ".join(cycle)
            )
        visiting.append(name)
        for dependency in services[name].depends_on:
            visit(dependency)
        visiting.pop()
        finished.add(name)

    for name in services:
        visit(name)


def _check_ports(services: dict[str, ServiceConfig]) -> None:
    owners: dict[int, str] = {}
    for service in services.values():
        if service.port is None:
            continue
        if service.port in owners:
            raise ConfigError(
                f"tool.harness.services.{service.name}.port: {service.port} is already "
                f"the port of {owners[service.port]!r}"
            )
        owners[service.port] = service.name


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
    return ContractsConfig(
        dir=root / string(raw, "dir", key, "contracts"),
        base_branch=string(raw, "base_branch", key, ContractsConfig.base_branch),
    )


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


def _backends(raw: Any) -> tuple[Backend, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"tool.harness.backends: must be a non-empty list of {list(BACKENDS)}")
    for name in raw:
        if name not in BACKENDS:
            raise ConfigError(
                f"tool.harness.backends: unknown back end {name!r}; choose from {list(BACKENDS)}"
            )
    return tuple(raw)
