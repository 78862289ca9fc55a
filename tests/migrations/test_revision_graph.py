"""harness.migrations._revision_graph on fixture histories: order, heads, orphans, ancestors."""

from __future__ import annotations

from pathlib import Path

from harness.db._alembic import History
from harness.migrations._revision_graph import RevisionGraph

FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrations"


def graph(name: str) -> RevisionGraph:
    return RevisionGraph.of(History(name, FIXTURES / name))


def test_a_branch_and_its_merge_are_ordered_parents_first():
    clean = graph("clean")

    assert clean.order() == ["0001", "0002a", "0002b", "0003", "0004"]
    assert clean.heads() == ["0004"]
    assert clean.ancestors_and_self("0003") == {"0001", "0002a", "0002b", "0003"}


def test_two_heads_and_a_missing_down_revision_are_seen_from_the_scripts():
    assert graph("two_heads").heads() == ["0002a", "0002b"]
    assert graph("orphan").orphans() == [
        "revision 0002 names down revision 0001-gone, which is not in the history"
    ]
