"""A package's public names, imported from its private modules on first use.

Each wing's `__init__` imports its public names under `if TYPE_CHECKING:`, where readers
and type checkers see them, then calls `public_names`, which reads those imports back and
returns the module's `__all__` and the `__getattr__` that performs them on first use. So
importing one module of a wing costs only that module, and the list is written once.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def public_names(package: str, init_file: str) -> tuple[list[str], Callable[[str], Any]]:
    """`(__all__, __getattr__)` of `package`, from the TYPE_CHECKING imports of its `__init__`."""
    origins = _type_checking_imports(Path(init_file))

    def __getattr__(name: str) -> Any:
        try:
            module_name, attribute = origins[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(module_name), attribute)

    return sorted(origins), __getattr__


def _type_checking_imports(init_file: Path) -> dict[str, tuple[str, str]]:
    """Each name imported under `if TYPE_CHECKING:` -> (its module, its name there)."""
    origins: dict[str, tuple[str, str]] = {}
    for node in ast.parse(init_file.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    for alias in statement.names:
                        origins[alias.asname or alias.name] = (statement.module, alias.name)
    return origins
