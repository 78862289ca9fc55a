"""harness.migrations._failure_site on exceptions raised by real revision files and by a library."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from harness.db._alembic import History
from harness.migrations._failure_site import on_purpose, where

FIXTURES = Path(__file__).parents[1] / "fixtures" / "migrations"


def test_a_revision_that_raises_is_named_with_its_file_and_line_and_raised_it_on_purpose():
    history = History("irreversible", FIXTURES / "irreversible")
    with pytest.raises(NotImplementedError) as caught:
        history.revision("0002").module.downgrade()

    found = where((history,), caught.value)
    assert found.startswith(" in revision 0002 (")
    assert found.endswith("migrations/irreversible/versions/0002_ledger.py:21)")
    assert on_purpose(caught.value)


def test_an_error_raised_by_a_library_is_not_on_purpose_and_names_the_project_line():
    history = History("irreversible", FIXTURES / "irreversible")
    with pytest.raises(sa.exc.ArgumentError) as caught:
        sa.create_engine("not a url")

    assert not on_purpose(caught.value)
    found = where((history,), caught.value)
    assert found.startswith(" at ") and "test_failure_site.py:" in found
