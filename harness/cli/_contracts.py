"""`contracts.export|check`: write the services' contracts (OpenAPI, and AsyncAPI for their
streams), judge their breaking changes."""

from __future__ import annotations

from invoke import Context, Exit, task

from harness.cli._common import (
    COMMON_HELP,
    DB_HELP,
    private_stack,
    project,
    reports_errors,
)
from harness.contracts import (
    Verdict,
    base_revision,
    fetch_document,
    stream_verdict_since,
    verdict_since,
    write_contract,
)


@task(name="export", help={"config": COMMON_HELP["config"], "db": DB_HELP})
@reports_errors
def export_contracts(c: Context, db: str | None = None, config: str = "pyproject.toml") -> None:
    """Write each service's OpenAPI document (and AsyncAPI document, for one with `asyncapi`),
    read from a private live stack, as its contract."""
    harness_config = project(config)
    documents = [
        (service.name, service.openapi, harness_config.contract_path(service.name))
        for service in harness_config.under_contract()
    ] + [
        (service.name, service.asyncapi, harness_config.stream_contract_path(service.name))
        for service in harness_config.under_stream_contract()
    ]
    if not documents:
        raise Exit(
            "harness: no service sets `openapi` or `asyncapi`; there is no contract to export",
            code=1,
        )
    with private_stack(harness_config, "contracts-export", db, auto_ports=True) as state:
        for name, document_path, path in documents:
            assert document_path is not None
            document = fetch_document(state.services[name].url, document_path)
            changed = write_contract(path, document)
            print(f"{name:<12} {'written' if changed else 'unchanged':<9} {path}")


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
    verdicts: list[tuple[str, Verdict | None]] = [
        (service.name, verdict_since(harness_config, service.name, revision))
        for service in harness_config.under_contract()
    ] + [
        (f"{service.name} (stream)", stream_verdict_since(harness_config, service.name, revision))
        for service in harness_config.under_stream_contract()
    ]
    refused = []
    for label, verdict in verdicts:
        if verdict is None:
            print(f"{label}: new contract, nothing to break")
            continue
        print(verdict.report(label))
        if not verdict.allowed:
            refused.append(label)
    if refused:
        raise Exit(f"harness: breaking changes without a major version bump: {refused}", code=1)
