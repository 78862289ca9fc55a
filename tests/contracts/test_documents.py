"""Checked-in contracts: canonical form, drift, base revisions read from git, the tasks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import command_toml, invoke, write_pyproject
from harness.config._project import parse_config
from harness.contracts._documents import (
    base_revision,
    canonical,
    contract_at,
    drift,
    load_contract,
    merge_base,
    verdict_since,
    write_contract,
)
from harness.exceptions import ContractError

DOCUMENT = {"openapi": "3.1.0", "info": {"version": "1.0.0", "title": "t"}, "paths": {}}


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=directory,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_canonical_form_sorts_keys_and_ends_with_a_newline():
    assert canonical({"b": 1, "a": {"d": 2, "c": "é"}}) == (
        '{\n  "a": {\n    "c": "é",\n    "d": 2\n  },\n  "b": 1\n}\n'
    )


def test_write_reports_whether_the_file_changed(tmp_path):
    path = tmp_path / "contracts" / "t.json"

    assert write_contract(path, DOCUMENT) is True
    assert write_contract(path, dict(reversed(DOCUMENT.items()))) is False
    assert load_contract(path) == DOCUMENT


def test_missing_or_corrupt_contract_says_how_to_fix_it(tmp_path):
    with pytest.raises(
        ContractError, match=r"no checked-in contract; write it with `invoke contracts\.export`"
    ):
        load_contract(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_contract(tmp_path / "bad.json")


def test_drift_is_a_readable_unified_diff():
    live = {**DOCUMENT, "info": {"version": "1.1.0", "title": "t"}}

    difference = drift(DOCUMENT, live, "records")

    assert drift(DOCUMENT, json.loads(json.dumps(DOCUMENT)), "records") == ""
    assert "--- records (checked in)" in difference
    assert "+++ records (live service)" in difference
    assert '-    "version": "1.0.0"' in difference
    assert '+    "version": "1.1.0"' in difference


@pytest.fixture
def repository(tmp_path):
    """A git repository on main holding a contract, with a feature branch checked out."""
    git(tmp_path, "init", "-q", "-b", "main")
    config = parse_config(
        {"services": {"api": {"command": ["x", "{port}"], "openapi": "/openapi.json"}}},
        root=tmp_path,
    )
    write_contract(
        config.contract_path("api"),
        {**DOCUMENT, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}},
    )
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "contract")
    git(tmp_path, "checkout", "-qb", "feature")
    return config


def test_base_is_the_merge_base_with_the_base_branch(repository):
    main = git(repository.root, "rev-parse", "main")
    git(repository.root, "commit", "-q", "--allow-empty", "-m", "work")

    assert merge_base(repository.root, "main") == main
    with pytest.raises(ContractError, match=r"no merge base of HEAD with .trunk.*--base REV"):
        merge_base(repository.root, "trunk")


def test_contract_at_a_revision_and_a_new_one(repository):
    path = repository.contract_path("api")

    assert contract_at(repository.root, path, "main")["paths"]
    assert contract_at(repository.root, repository.contract_path("new"), "main") is None


def test_a_project_in_a_subdirectory_has_its_breaking_changes_caught(tmp_path):
    """pyproject.toml in backend/ of the git repository: the base's contract is still found."""
    git(tmp_path, "init", "-q", "-b", "main")
    config = parse_config(
        {"services": {"api": {"command": ["x", "{port}"], "openapi": "/openapi.json"}}},
        root=tmp_path / "backend",
    )
    path = config.contract_path("api")
    write_contract(
        path,
        {**DOCUMENT, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}},
    )
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "contract")
    write_contract(path, DOCUMENT)

    verdict = verdict_since(config, "api", "main")

    assert verdict is not None and not verdict.allowed
    assert [f.rule for f in verdict.findings] == ["api-path-removed-without-deprecation"]


def test_a_failed_git_lookup_is_an_error_not_a_new_contract(repository, tmp_path):
    missing_revision = "0" * 40

    with pytest.raises(
        ContractError, match=r"cannot look up \./contracts/api\.json at 000000000000"
    ):
        contract_at(repository.root, repository.contract_path("api"), missing_revision)


def test_a_given_base_must_be_a_commit(repository):
    assert base_revision(repository, "main") == git(repository.root, "rev-parse", "main")
    assert base_revision(repository, None) == git(repository.root, "rev-parse", "main")
    with pytest.raises(ContractError, match="'nope' is not a commit"):
        base_revision(repository, "nope")


def test_verdict_since_the_base(repository):
    path = repository.contract_path("api")
    write_contract(path, {**DOCUMENT, "paths": {}})

    verdict = verdict_since(repository, "api", "main")

    assert verdict is not None and not verdict.allowed
    assert [f.rule for f in verdict.findings] == ["api-path-removed-without-deprecation"]
    assert verdict_since(repository, "new", "main") is None


def test_export_then_check_tasks(tmp_path):
    write_pyproject(
        tmp_path,
        f'[tool.harness.services.api]\ncommand = {command_toml()}\nopenapi = "/openapi.json"\n',
    )
    git(tmp_path, "init", "-q", "-b", "main")

    exported = invoke(tmp_path, "contracts.export")

    assert exported.returncode == 0, exported.stderr
    assert "api          written" in exported.stdout
    contract = load_contract(tmp_path / "contracts" / "api.json")
    assert contract["paths"]["/health"]["get"]["responses"]["200"]
    assert list((tmp_path / ".harness" / "runs").iterdir()) == []
    assert "unchanged" in invoke(tmp_path, "contracts.export").stdout

    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "contract")
    del contract["paths"]["/health"]
    write_contract(tmp_path / "contracts" / "api.json", contract)

    refused = invoke(tmp_path, "contracts.check")
    assert refused.returncode == 1
    assert "api-path-removed-without-deprecation: GET /health" in refused.stdout
    assert "breaking changes without a major version bump: ['api']" in refused.stderr
    assert "Traceback" not in refused.stderr

    contract["info"]["version"] = "2.0.0"
    write_contract(tmp_path / "contracts" / "api.json", contract)
    allowed = invoke(tmp_path, "contracts.check", "--base", "main")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
