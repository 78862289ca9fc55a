"""What a perf run's budgets and baseline said, saved beside its results as
`<db>.outcome.json`, so that the run's summary reads data and not the Markdown report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.perf._assessment import Assessment


def outcome_path(directory: Path, backend: str) -> Path:
    """Where the perf run on `backend` saves its outcome under its reports `directory`."""
    return directory / f"{backend}.outcome.json"


@dataclass(frozen=True)
class PerfOutcome:
    """The back end a perf run measured and its failures (budgets missed, regressions)."""

    backend: str
    failures: list[str]

    @classmethod
    def of(cls, backend: str, assessment: Assessment) -> PerfOutcome:
        return cls(backend, assessment.failures)

    def lines(self) -> list[str]:
        """The verdict in Markdown: a bold line, then each failure as an item."""
        failures = self.failures
        head = f"**{len(failures)} failure(s)**" if failures else "**All budgets met.**"
        return [head, "", *(f"- {failure}" for failure in failures)]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> PerfOutcome:
        """The outcome saved at `path`; ValueError if the file is not one."""
        try:
            data = json.loads(path.read_text())
            if not isinstance(data["failures"], list):
                raise TypeError("failures: expected a list")
            outcome = cls(str(data["backend"]), [str(line) for line in data["failures"]])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a perf outcome ({exc})") from None
        return outcome
