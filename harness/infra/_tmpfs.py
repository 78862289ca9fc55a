"""Directories on tmpfs (`/dev/shm`) when it has room: databases there wait for no disk.

The throwaway PostgreSQL cluster, the run's SQLite database and the migration checks'
SQLite files all go there when they can, each in a directory of its own, and to a place
on disk their caller picks when tmpfs is missing, full or not writable.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

TMPFS = Path("/dev/shm")
SQLITE_ROOM = 256 * 2**20  # bytes tmpfs must have free to take SQLite databases


def directory(prefix: str, room: int) -> Path | None:
    """A new directory `<prefix>…` on tmpfs when it has `room` bytes free; else None."""
    try:
        if TMPFS.is_dir() and shutil.disk_usage(TMPFS).free >= room:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=TMPFS))
    except OSError:
        pass  # not writable: the disk will do
    return None


def directory_or_under(prefix: str, room: int, fallback: Path) -> Path:
    """A new directory `<prefix>…` on tmpfs when it has `room` bytes free, else in `fallback`."""
    made = directory(prefix, room)
    if made is not None:
        return made
    fallback.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=fallback))
