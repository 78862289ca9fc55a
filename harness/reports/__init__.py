"""Where results go: the reports layout, run records, coverage settings for service
processes, and one merged JUnit file and coverage report per run."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.reports._build import build
    from harness.reports._coverage_settings import write_coverage_settings
    from harness.reports._layout import ReportsLayout, RunRecord, git_revision

__all__, __getattr__ = public_names(__name__, __file__)
