"""Where in a project an exception was raised: the revision file and line, else the project's
own file (env.py, the models) and line; and whether the project's code raised it on purpose."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from harness.db import History

HARNESS_DIR = Path(__file__).parent


def where(histories: tuple[History, ...], exc: BaseException) -> str:
    """` in revision R (file:line)` when the traceback passes through a revision of one of
    `histories`, else ` at file:line` of the innermost frame in the project's own code."""
    revisions = {script.path: script.revision for h in histories for script in h.scripts}
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename in revisions:
            return f" in revision {revisions[frame.filename]} ({_shown(frame)})"
    for frame in reversed(frames):
        if _is_project_code(frame.filename):
            return f" at {_shown(frame)}"
    return ""


def on_purpose(exc: BaseException) -> bool:
    """Raised by the project's own code (`raise NotImplementedError` in a downgrade, say), not
    by the database or a library it called."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and _is_project_code(frames[-1].filename)


def _is_project_code(filename: str) -> bool:
    """Not the interpreter's, an installed library's, or harness's own."""
    path = Path(filename)
    outside = {Path(sys.prefix), Path(sys.base_prefix), HARNESS_DIR}
    return path.is_absolute() and not any(path.is_relative_to(top) for top in outside)


def _shown(frame: traceback.FrameSummary) -> str:
    """file:line, the file relative to the working directory when it is below it."""
    relative = os.path.relpath(frame.filename)
    return f"{frame.filename if relative.startswith('..') else relative}:{frame.lineno}"
