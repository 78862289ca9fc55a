"""What fed the reports: each test run records itself as it begins.

A run (one package on one back end, maybe one shard of it) leaves, under the reports
directory: `runs/<run>.json` (this record), `junit/<run>.xml` (pytest),
`junit/<run>.lifecycle.xml` (harness's service starts and stops) and `coverage/<run>/`
(one data file per measured process). The merge reads the records to name each suite
`<package>[<db>]` and to tell a run that left no results from one that never ran.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.infra import check_run_id


def _python() -> str:
    return platform.python_version()


def git_revision(cwd: Path) -> str:
    """The checked-out commit, or $GITHUB_SHA, or 'unknown' outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        result = None
    if result is not None and result.returncode == 0:
        return result.stdout.strip()
    return os.environ.get("GITHUB_SHA", "unknown")


@dataclass(frozen=True)
class RunRecord:
    """One test run: which package, back end and shard, on which Python and commit."""

    run_id: str
    package: str
    db: str | None = None
    shard: str | None = None  # "K/N"
    python: str = field(default_factory=_python)
    revision: str = "unknown"

    @property
    def suite(self) -> str:
        """The name of its suite in the merged JUnit file: `<package>[<db>]`."""
        return f"{self.package}[{self.db}]" if self.db else self.package

    def properties(self) -> dict[str, str]:
        found = {
            "harness.backend": self.db,
            "harness.python": self.python,
            "harness.revision": self.revision,
            "harness.run_id": self.run_id,
            "harness.shard": self.shard,
        }
        return {name: value for name, value in found.items() if value}


class ReportsLayout:
    """Where each run's reports go under the reports directory, and where the merge goes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"
        self.junit_dir = root / "junit"
        self.coverage_dir = root / "coverage"
        self.merged_junit = root / "junit.xml"
        self.summary = root / "summary.md"
        self.coverage_xml = root / "coverage.xml"
        self.coverage_html = root / "coverage-html"
        self.combined_coverage = self.coverage_dir / ".coverage"
        self.coverage_settings = self.coverage_dir / "harness.coveragerc"
        self.perf_dir = root / "perf"

    def junit(self, run_id: str) -> Path:
        return self.junit_dir / f"{run_id}.xml"

    def lifecycle_junit(self, run_id: str) -> Path:
        return self.junit_dir / f"{run_id}.lifecycle.xml"

    def coverage_data(self, run_id: str) -> Path:
        """The data file (COVERAGE_FILE) of the run's processes; each adds its suffix."""
        return self.coverage_dir / run_id / ".coverage"

    def begin(self, record: RunRecord) -> None:
        """Forget what an earlier run of the same id left; record this one."""
        check_run_id(record.run_id)
        self.junit(record.run_id).unlink(missing_ok=True)
        self.lifecycle_junit(record.run_id).unlink(missing_ok=True)
        shutil.rmtree(self.coverage_data(record.run_id).parent, ignore_errors=True)
        self.coverage_data(record.run_id).parent.mkdir(parents=True)
        self.junit_dir.mkdir(parents=True, exist_ok=True)
        self.runs.mkdir(parents=True, exist_ok=True)
        (self.runs / f"{record.run_id}.json").write_text(json.dumps(asdict(record), indent=2))

    def records(self) -> tuple[dict[str, RunRecord], list[str]]:
        """Every run record by run id, and a line for each that cannot be read."""
        records: dict[str, RunRecord] = {}
        problems = []
        for path in sorted(self.runs.glob("*.json")):
            try:
                record = RunRecord(**json.loads(path.read_text()))
            except (ValueError, TypeError) as exc:
                problems.append(f"{path}: not a run record ({exc}); its run is left unnamed")
                continue
            records[record.run_id] = record
        return records, problems
