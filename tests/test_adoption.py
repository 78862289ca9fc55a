"""A second monorepo adopts harness from config alone (tests/fixtures/adopter/).

Unlike the reference one: its project sits in `backend/` of its git repository, it runs on
PostgreSQL only, its service is Starlette under uvicorn with a contract written in code,
its env.py is its authors'. It has `[tool.harness]`, a one-line tasks.py and a short
noxfile, and not one test file: the gates, generated tests and migration checks are
harness's. Its Nox sessions run here in this interpreter (`--force-venv-backend none`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.config._project import load_config
from harness.infra._state import list_runs

ADOPTER = Path(__file__).parent / "fixtures" / "adopter"
NOXFILE_LINES_AT_MOST = 25


def git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repository,
        check=True,
        capture_output=True,
    )


def run(backend: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A command in the adopter's project, with this interpreter's tools on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_RUN", "COVERAGE_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(command, cwd=backend, env=env, capture_output=True, text=True)


def nox(backend: Path, session: str) -> subprocess.CompletedProcess[str]:
    return run(
        backend,
        sys.executable,
        "-m",
        "nox",
        "--force-venv-backend",
        "none",
        "--no-install",
        "-s",
        session,
    )


def outcomes(junit: Path) -> dict[str, str]:
    """`classname::name` -> passed / failed / error / skipped, and the failure texts."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        problem = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
        found[f"{case.get('classname')}::{case.get('name')}"] = (
            "passed" if problem is None else f"{problem.tag}: {problem.get('message')}"
        )
    return found


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The adopter's git repository, its main branch committed; the path of its project."""
    repository = tmp_path_factory.mktemp("adopter")
    shutil.copytree(ADOPTER, repository, dirs_exist_ok=True)
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", ".")
    git(repository, "commit", "-qm", "the notes service")
    return repository / "backend"


def test_the_adopter_writes_only_config_a_one_line_tasks_py_and_a_short_noxfile(backend):
    written = sorted(
        str(path.relative_to(backend))
        for path in backend.rglob("*")
        if path.is_file() and not path.is_relative_to(backend / "app")
    )

    assert written == [
        "alembic.ini",
        "contracts/notes.json",
        "noxfile.py",
        "pyproject.toml",
        "tasks.py",
    ]
    assert len((backend / "tasks.py").read_text().splitlines()) == 1
    assert len((backend / "noxfile.py").read_text().splitlines()) <= NOXFILE_LINES_AT_MOST


def test_the_readme_shows_exactly_the_adopters_noxfile():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Adopting harness", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]

    assert textwrap.dedent(shown) == (ADOPTER / "backend" / "noxfile.py").read_text()


def test_its_contract_gates_generated_tests_and_migration_checks_pass(backend):
    contracts = nox(backend, "contracts(db='postgres')")
    migrations = nox(backend, "migrations(db='postgres')")

    assert contracts.returncode == 0, contracts.stdout + contracts.stderr
    assert migrations.returncode == 0, migrations.stdout + migrations.stderr
    gates = outcomes(backend / "reports" / "junit" / "contracts-postgres.xml")
    assert gates["harness.suites.contracts::test_drift[notes]"] == "passed"
    assert gates["harness.suites.contracts::test_breaking_change[notes]"] == "passed"
    assert "harness.suites.generated::test_notes" in gates
    checks = outcomes(backend / "reports" / "junit" / "migrations-postgres.xml")
    assert checks["harness.suites.migrations::test_migration[notes:stairway[0002]]"] == "passed"
    assert set(checks.values()) == {"passed"}
    assert list_runs(load_config(backend / "pyproject.toml").run_dir / "runs") == []


def test_a_breaking_change_is_caught_though_the_project_is_in_a_subdirectory(backend):
    contract = backend / "app" / "contract.py"
    original = contract.read_text()
    git(backend.parent, "checkout", "-qb", "drop-delete")
    contract.write_text(original + 'del OPERATIONS["/notes/{note_id}"]["delete"]\n')
    try:
        exported = run(backend, sys.executable, "-m", "invoke", "contracts.export")
        assert exported.returncode == 0, exported.stderr
        assert "notes        written" in exported.stdout

        result = nox(backend, "contracts(db='postgres')")
    finally:
        contract.write_text(original)
        git(backend.parent, "checkout", "-q", "--", ".")
        git(backend.parent, "checkout", "-q", "main")

    assert result.returncode != 0
    gates = outcomes(backend / "reports" / "junit" / "contracts-postgres.xml")
    assert gates["harness.suites.contracts::test_drift[notes]"] == "passed"
    breaking = gates["harness.suites.contracts::test_breaking_change[notes]"]
    assert breaking.startswith("failure:") and "DELETE /notes/{note_id}" in breaking
    assert list_runs(load_config(backend / "pyproject.toml").run_dir / "runs") == []
