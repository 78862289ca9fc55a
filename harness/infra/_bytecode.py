"""A bytecode cache for the processes harness spawns (and its own imports of a project's
migrations), where the environment forbids one.

With PYTHONDONTWRITEBYTECODE set (many CI images and containers set it), every service
compiles every module it imports from source at every start: importing the reference
records service took 1.16 s of CPU here, and 0.48 s once its bytecode was cached. So the
processes of a run write and read their bytecode in harness's own cache, `<run_dir>/pycache`
(PYTHONPYCACHEPREFIX: nothing lands in the source tree), kept from run to run. Python keys
each cached file to its source's path, size and modification time in whole seconds, so
an edited module is compiled again, but for one race: a same-size rewrite within the second
the module was compiled (a formatter, a codemod, a mutation tool's `|` to `^`) would run
stale in this run and every later one. So before each use the cache forgets the project's
bytecode written within two seconds of its source's modification (`forget_racing`), which
Python then compiles again. A PYTHONPYCACHEPREFIX of the environment's own is kept;
`bytecode_cache = false` in [tool.harness] leaves the environment exactly as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_DIR = "pycache"


def with_bytecode_cache(env: dict[str, str], run_dir: Path, root: Path) -> dict[str, str]:
    """`env` for a spawned process: allowed to write bytecode, to harness's cache (rid of
    `root`'s racing bytecode) unless it names a cache of its own; unchanged when it may
    write bytecode already."""
    if not env.get("PYTHONDONTWRITEBYTECODE"):
        return env
    cached = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    if "PYTHONPYCACHEPREFIX" not in cached:
        cached["PYTHONPYCACHEPREFIX"] = str(run_dir / CACHE_DIR)
        forget_racing(run_dir / CACHE_DIR, root)
    return cached


@contextmanager
def bytecode_cached(run_dir: Path, root: Path) -> Iterator[None]:
    """While the block runs, this process caches its imports' bytecode as a spawned one
    does: for a project's env.py and models, imported in harness's own process."""
    if not sys.dont_write_bytecode:
        yield
        return
    prefix = sys.pycache_prefix
    if not prefix:
        forget_racing(run_dir / CACHE_DIR, root)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = prefix or str(run_dir / CACHE_DIR)
    try:
        yield
    finally:
        sys.dont_write_bytecode = True
        sys.pycache_prefix = prefix


def forget_racing(cache: Path, root: Path) -> None:
    """Delete the cached bytecode of `root`'s sources written within two seconds of its
    source's modification (whole seconds), which may stand for an earlier text of the same
    size. Dot-directories (.nox, .venv: installed code nobody rewrites) are not looked at."""
    anchor = Path(root.resolve().anchor)
    mirror = cache / root.resolve().relative_to(anchor)
    for directory, subdirectories, names in os.walk(mirror):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            compiled = Path(directory, name)
            source = anchor / compiled.parent.relative_to(cache) / f"{name.split('.', 1)[0]}.py"
            try:
                if compiled.stat().st_mtime < int(source.stat().st_mtime) + 2:
                    compiled.unlink()
            except FileNotFoundError:
                continue  # a source gone, or a file another process removed first
