"""The revisions of an Alembic history and their parents, read from the scripts alone (so a
history whose down revisions are missing can still be told about)."""

from __future__ import annotations

from harness.db import History


class RevisionGraph:
    """The revisions of a history and who their parents are, read from the scripts alone."""

    def __init__(self, parents: dict[str, tuple[str, ...]]) -> None:
        self.parents = parents

    @classmethod
    def of(cls, history: History) -> RevisionGraph:
        parents = {}
        for script in history.scripts:
            down = script.down_revision
            parents[script.revision] = () if down is None else tuple(_as_list(down))
        return cls(parents)

    def orphans(self) -> list[str]:
        """A line per revision naming a down revision that is not in the history."""
        return [
            f"revision {revision} names down revision {parent}, which is not in the history"
            for revision, parents in sorted(self.parents.items())
            for parent in parents
            if parent not in self.parents
        ]

    def heads(self) -> list[str]:
        children = {parent for parents in self.parents.values() for parent in parents}
        return sorted(revision for revision in self.parents if revision not in children)

    def order(self) -> list[str]:
        """Parents before children; siblings by id."""
        done: list[str] = []
        pending = sorted(self.parents)
        while pending:
            ready = [r for r in pending if all(p in done for p in self.parents[r])]
            done += ready
            pending = [r for r in pending if r not in ready]
        return done

    def ancestors_and_self(self, revision: str) -> set[str]:
        found, todo = set(), [revision]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo += self.parents.get(current, ())
        return found


def _as_list(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
