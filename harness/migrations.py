"""Alembic, as harness uses it on any project: apply a history to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from harness.config import HarnessConfig
from harness.exceptions import MigrationError


def alembic_config(script_location: Path, url: str) -> Config:
    """An in-memory Alembic config for one history and one database."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(script_location: Path, url: str, label: str) -> None:
    """Apply every revision of the history at `script_location`; one-line error on failure."""
    try:
        command.upgrade(alembic_config(script_location, url), "heads")
    except Exception as exc:
        raise MigrationError(
            f"migrations of {label!r} ({script_location}) failed: {exc.__class__.__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from exc


def migrate_all(config: HarnessConfig, url: str) -> None:
    """Apply every service's history to the database at `url`, in config order."""
    for service in config.services.values():
        if service.migrations is not None:
            upgrade_to_head(service.migrations, url, service.name)
