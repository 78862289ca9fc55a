"""The wheel ships the toolkit alone: one top-level package, the toolkit's requirements."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_ONLY = {"fastapi", "uvicorn", "python-docx", "python-multipart"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel built from a copy of the repository (services/ included, as in a checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("harness", "services"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    build = f"import setuptools.build_meta as b; print(b.build_wheel({str(out)!r}))"
    result = subprocess.run(
        [sys.executable, "-c", build], cwd=source, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return zipfile.ZipFile(out / result.stdout.strip().splitlines()[-1])


def test_the_only_top_level_package_is_harness(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.endswith("/")}
    packages = {top for top in tops if not top.endswith(".dist-info")}

    assert packages == {"harness"}
    assert "harness/suites/contracts.py" in wheel.namelist()
    assert "harness/contracts/asyncapi-3.0.0.schema.json" in wheel.namelist()  # package data


def test_requirements_are_the_toolkits(wheel):
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    lines = wheel.read(metadata).decode().splitlines()
    core = {
        line.split(":", 1)[1].split(";")[0].strip().split(">")[0].split("[")[0].lower()
        for line in lines
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }

    assert {"httpx", "pytest", "alembic", "invoke"} <= core
    assert not core & REFERENCE_ONLY
    assert "Provides-Extra: contracts" in lines
