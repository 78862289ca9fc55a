"""Benchmark: wall time of every migration check, per back end, beside pytest-alembic.

Times (median of N runs, each a fresh subprocess so interpreter start-up and imports count
for both tools):

- harness's checks of the reference services' histories, on SQLite and PostgreSQL;
- harness's checks of a generated 40-revision history (tables, columns, indexes and data
  migrations in turn), on SQLite and PostgreSQL;
- pytest-alembic's built-in tests (`pytest --test-alembic -p no:harness`: single head,
  upgrade, model match, up/down consistency) on the same generated history, on SQLite, with
  harness's own plugin not loaded (so it is not timed with it).

pytest-alembic 0.13.1 fails at collection under pytest 9.2: give `--pytest-alembic-python`
the interpreter of a venv with `pytest<9.2` and pytest-alembic. The ratio printed is
harness's checks over pytest-alembic's tests on the generated history (SQLite; harness's
scratch files on tmpfs when it has room, as `migrations.check` puts them).

    python benchmarks/migrations.py [--runs 5] [--revisions 40] [--out FILE.json]
        [--pytest-alembic-python VENV/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
OUT = ROOT / "reports" / "benchmarks" / "migrations.json"

ENV_PY = """from models import metadata

from services.common.migrations_env import run_migrations

run_migrations(metadata, version_table="alembic_version")
"""

CHECK_GENERATED = """
import sys, tempfile
from pathlib import Path
from harness.db import scratch_for
from harness.config import parse_config
from harness.migrations import MigrationChecker
from harness.db import History
from harness.stack import Stack

project, backend = Path(sys.argv[1]), sys.argv[2]
config = parse_config({"services": {"db": {"command": ["x", "{port}"], "database": True}}}, project)
stack = Stack(config, f"bench-migrations-{backend}")
state = stack.up(backend, database_only=True)
try:
    with tempfile.TemporaryDirectory() as directory:
        scratch = scratch_for(config, state.database, "b", Path(directory), tmpfs=True)
        history = History("generated", project / "migrations", "models:metadata")
        results = MigrationChecker(history, scratch).run()
        scratch.close()
finally:
    stack.down()
failed = [r.id for r in results if r.status == "failed"]
assert not failed, failed
print(len(results))
"""


def generated_history(directory: Path, revisions: int) -> None:
    """`revisions` Alembic revisions under directory/migrations and the models of its head."""
    versions = directory / "migrations" / "versions"
    versions.mkdir(parents=True)
    (directory / "migrations" / "env.py").write_text(ENV_PY)
    models = ["import sqlalchemy as sa", "", "metadata = sa.MetaData()", "tables = {}"]
    columns: dict[str, list[str]] = {}
    indexes: list[tuple[str, str]] = []
    table = ""
    for number in range(1, revisions + 1):
        down = repr(f"r{number - 1:03d}") if number > 1 else "None"
        kind = number % 4
        declared = ""
        if kind == 1 or not table:
            previous, table = table, f"t{number:03d}"
            reference = f"sa.ForeignKey('{previous}.id')" if previous else ""
            columns[table] = [
                "sa.Column('id', sa.Integer, primary_key=True)",
                "sa.Column('name', sa.String(40), nullable=False)",
                f"sa.Column('ref_id', sa.Integer, {reference} nullable=True)".replace(
                    ") nullable", "), nullable"
                ),
            ]
            up = f"op.create_table('{table}', {', '.join(columns[table])})"
            back = f"op.drop_table('{table}')"
        elif kind == 2:
            column = "sa.Column('extra', sa.Integer, nullable=False, server_default='0')"
            columns[table].append(column)
            batch = f"with op.batch_alter_table('{table}') as batch:\n        batch."
            up = f"{batch}add_column({column})"
            back = f"{batch}drop_column('extra')"
        elif kind == 3:
            indexes.append((table, f"ix_{table}_name"))
            up = f"op.create_index('ix_{table}_name', '{table}', ['name'])"
            back = f"op.drop_index('ix_{table}_name', table_name='{table}')"
        else:
            declared = f"data_changes = {{'{table}': ['extra']}}\n"
            up = f"op.execute('UPDATE {table} SET extra = extra + 1')"
            back = f"op.execute('UPDATE {table} SET extra = extra - 1')"
        (versions / f"r{number:03d}.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = 'r{number:03d}'\ndown_revision = {down}\n{declared}\n\n"
            f"def upgrade():\n    {up}\n\n\ndef downgrade():\n    {back}\n"
        )
    for name, table_columns in columns.items():
        models.append(
            f"tables['{name}'] = sa.Table('{name}', metadata, {', '.join(table_columns)})"
        )
    for name, index in indexes:
        models.append(f"sa.Index('{index}', tables['{name}'].c.name)")
    (directory / "models.py").write_text("\n".join(models) + "\n")
    (directory / "pytest.ini").write_text("[pytest]\n")  # rootdir: pytest-alembic binds to
    (directory / "tests").mkdir()  # tests/conftest.py under it
    (directory / "tests" / "conftest.py").write_text(
        "import pytest\nimport sqlalchemy\n\n\n@pytest.fixture\ndef alembic_config():\n"
        f"    return {{'script_location': '{directory / 'migrations'}'}}\n\n\n"
        "@pytest.fixture\ndef alembic_engine(tmp_path):  # a file, as harness's checks use\n"
        "    return sqlalchemy.create_engine(f'sqlite:///{tmp_path}/db.sqlite3')\n"
    )


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--revisions", type=int, default=40)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--pytest-alembic-python", default=sys.executable)
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory)
        generated_history(project, args.revisions)
        env = {**os.environ, "PYTHONPATH": f"{project}{os.pathsep}{ROOT}"}
        commands = {
            f"reference {db}": (
                [sys.executable, "-m", "invoke", "migrations.check", "--db", db],
                ROOT,
            )
            for db in ("sqlite", "postgres")
        }
        for db in ("sqlite", "postgres"):
            commands[f"generated {db}"] = (
                [sys.executable, "-c", CHECK_GENERATED, str(project), db],
                project,
            )
        commands["pytest-alembic sqlite"] = (
            [
                args.pytest_alembic_python,
                *("-m", "pytest", "--test-alembic", "-q"),
                *("-p", "no:cacheprovider", "-p", "no:harness"),
            ],
            project,
        )
        for _ in range(args.runs):  # interleaved, so drift hits every command alike
            for name, (command, cwd) in commands.items():
                results.setdefault(name, []).append(timed(command, cwd, env))
    medians = {name: statistics.median(times) for name, times in results.items()}
    for name, median in medians.items():
        runs = [round(t, 2) for t in results[name]]
        print(f"{name:24} median {median:6.2f} s over {args.runs}  {runs}")
    ratio = medians["generated sqlite"] / medians["pytest-alembic sqlite"]
    print(f"harness / pytest-alembic on the generated history (SQLite): {ratio:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "runs": args.runs,
                "revisions": args.revisions,
                "seconds": results,
                "medians": medians,
                "harness_over_pytest_alembic": ratio,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
