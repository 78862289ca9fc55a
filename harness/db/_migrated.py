"""Migrated SQLite databases kept from run to run: an `up` whose migrations have not changed
copies the database they made last time instead of running them again.

A copy is keyed by what the migrations read: every file of each history's script directory
(its revisions, env.py, alembic.ini) and every module of the project loaded once they had
run (what env.py imports: models, helpers), each by its content, with the Python, Alembic
and SQLAlchemy versions and the histories in their order. The first `up` after any of them
changes runs the migrations and keeps what they made in `<run_dir>/migrated/`; a failed
migration keeps nothing. Migrations that read anything else (an environment variable, the
clock, a data file outside the script directory) would be copied as they first ran:
`migration_cache = false` in [tool.harness] runs them every time. The migration checks
never use a copy.

Alembic is imported only when the migrations run: a copy needs none of it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from harness.config import HarnessConfig, ServiceConfig, script_location

CACHE_DIR = "migrated"
KEPT = 4  # copies kept, the newest: a few branches' worth


def migrate_all(config: HarnessConfig, url: str) -> bool:
    """Apply every service's history to the database at `url`, in config order; on SQLite,
    copy the database they made last time when nothing they read has changed. Whether it
    was such a copy."""
    histories = [service for service in config.services.values() if service.migrations]
    if not histories:
        return False
    cached = url.startswith("sqlite:///") and config.migration_cache
    path, cache = Path(url.removeprefix("sqlite:///")), config.run_dir / CACHE_DIR
    if cached and _restored(cache, histories, path):
        return True
    from harness.db._alembic import apply_histories  # here: a copy needs no Alembic

    apply_histories(config, url)
    if cached:
        _keep(cache, histories, path, config.root)
    return False


def _restored(cache: Path, histories: list[ServiceConfig], path: Path) -> bool:
    """Whether a kept copy whose inputs are all unchanged was copied to `path`."""
    for manifest in sorted(cache.glob("*.json"), key=_age):
        try:
            files = [Path(name) for name in json.loads(manifest.read_text())["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half written by a run beside this one, or by an older harness
        key = _key(histories, files)
        copy = cache / f"{key}.sqlite3"
        if key is None or manifest.stem != key:
            continue
        try:
            _copy(copy, path)
            os.utime(manifest)  # the newest, kept longest
        except (OSError, sqlite3.Error):  # pruned meanwhile by a run beside this one
            path.unlink(missing_ok=True)
            continue
        return True
    return False


def _keep(cache: Path, histories: list[ServiceConfig], path: Path, root: Path) -> None:
    """Keep the database at `path`, just migrated, under the key of what the migrations
    read; only the newest KEPT copies stay."""
    files = _project_modules(root)
    key = _key(histories, files)
    if key is None:
        return
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        _copy(path, Path(scratch) / "copy")
        os.replace(Path(scratch) / "copy", cache / f"{key}.sqlite3")
        (Path(scratch) / "manifest").write_text(json.dumps({"files": [str(f) for f in files]}))
        os.replace(Path(scratch) / "manifest", cache / f"{key}.json")
    for manifest in sorted(cache.glob("*.json"), key=_age)[KEPT:]:
        manifest.unlink(missing_ok=True)
        manifest.with_suffix(".sqlite3").unlink(missing_ok=True)


def _key(histories: list[ServiceConfig], modules: list[Path]) -> str | None:
    """The digest of the migrations' inputs; None when one of `modules` is gone."""
    digest = hashlib.sha256()
    versions = [sys.version, *(_version(name) for name in ("alembic", "sqlalchemy"))]
    digest.update(repr((versions, [(s.name, str(s.migrations)) for s in histories])).encode())
    scripts = [file for service in histories for file in _script_files(service)]
    for file in sorted({*scripts, *modules}):
        try:
            content = file.read_bytes()
        except OSError:
            return None
        digest.update(f"\0{file}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:32]


def _script_files(service: ServiceConfig) -> list[Path]:
    """Every file of the service's history: its script directory's (bytecode aside), and
    the alembic.ini `migrations` names."""
    assert service.migrations is not None
    directory = script_location(service.migrations)
    files = [service.migrations] if service.migrations.is_file() else []
    for folder, subfolders, names in os.walk(directory):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        files += [Path(folder, name) for name in names]
    return files


def _project_modules(root: Path) -> list[Path]:
    """The source files of the modules loaded from the project (not from an environment
    inside it, a dot-directory or site-packages)."""
    root = root.resolve()
    files = set()
    for module in list(sys.modules.values()):
        location = getattr(module, "__file__", None)
        if not location:
            continue
        file = Path(location).resolve()
        if root in file.parents:
            inside = file.relative_to(root).parts
            if not any(part.startswith(".") or part == "site-packages" for part in inside):
                files.add(file)
    return sorted(files)


def _copy(source: Path, target: Path) -> None:
    """SQLite's own copy (its backup API) of the database at `source` into `target`."""
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _age(manifest: Path) -> float:
    """Newest first."""
    try:
        return -manifest.stat().st_mtime
    except FileNotFoundError:
        return 0.0
