"""`contracts.export|check`: write the services' contracts, judge their breaking changes."""

from __future__ import annotations

from invoke import Context, Exit, task

from harness.cli._common import (
    COMMON_HELP,
    DB_HELP,
    private_stack,
    project,
    reports_errors,
)
from harness.contracts import base_revision, fetch_document, verdict_since, write_contract


@task(name="export", help={"config": COMMON_HELP["config"], "db": DB_HELP})
@reports_errors
def export_contracts(c: Context, db: str | None = None, config: str = "pyproject.toml") -> None:
    """Write each service's OpenAPI document, read from a private live stack, as its contract."""
    harness_config = project(config)
    under_contract = harness_config.under_contract()
    if not under_contract:
        raise Exit("harness: no service sets `openapi`; there is no contract to export", code=1)
    with private_stack(harness_config, "contracts-export", db, auto_ports=True) as state:
        for service in under_contract:
            assert service.openapi is not None
            document = fetch_document(state.services[service.name].url, service.openapi)
            path = harness_config.contract_path(service.name)
            changed = write_contract(path, document)
            print(f"{service.name:<12} {'written' if changed else 'unchanged':<9} {path}")


@task(
    name="check",
    help={
        "config": COMMON_HELP["config"],
        "base": "git revision to compare with (default: merge base with the base branch)",
    },
)
@reports_errors
def check_contracts(c: Context, base: str | None = None, config: str = "pyproject.toml") -> None:
    """Breaking changes of the checked-in contracts since a base revision; exit 1 if not allowed."""
    harness_config = project(config)
    revision = base_revision(harness_config, base)
    print(f"breaking changes since {revision[:12]}:")
    refused = []
    for service in harness_config.under_contract():
        verdict = verdict_since(harness_config, service.name, revision)
        if verdict is None:
            print(f"{service.name}: new contract, nothing to break")
            continue
        print(verdict.report(service.name))
        if not verdict.allowed:
            refused.append(service.name)
    if refused:
        raise Exit(f"harness: breaking changes without a major version bump: {refused}", code=1)
