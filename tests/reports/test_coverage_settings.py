"""The coverage settings of a run: the project's own, plus what measuring services needs."""

from __future__ import annotations

import configparser

from harness.config._project import parse_config
from harness.reports._coverage_settings import coverage_settings, write_coverage_settings

SERVICES = {"app": {"command": ["app", "{port}"]}}


def test_a_project_without_coverage_keys_gets_what_services_need(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\n")
    config = parse_config({"services": SERVICES}, root=tmp_path)

    settings = coverage_settings(config)

    assert settings == {
        "run": {
            "branch": True,
            "parallel": True,
            "sigterm": True,
            "relative_files": True,
            "patch": ["subprocess"],
        }
    }


def test_the_projects_own_keys_are_kept_and_the_needed_ones_win(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.coverage.run]\nsource = ["app"]\nbranch = false\nparallel = false\n'
        '[tool.coverage.report]\nexclude_also = ["if TYPE_CHECKING:"]\n'
    )
    config = parse_config({"services": SERVICES}, root=tmp_path)

    path = write_coverage_settings(config, tmp_path / "reports" / "harness.coveragerc")

    written = configparser.ConfigParser()
    written.read(path)
    assert written["run"]["source"].split() == ["app"]
    assert written["run"]["branch"] == "false"
    assert written["run"]["parallel"] == "true"
    assert written["run"]["sigterm"] == "true"
    assert written["report"]["exclude_also"].strip() == "if TYPE_CHECKING:"
