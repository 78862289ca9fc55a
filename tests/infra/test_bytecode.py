"""The bytecode cache of the processes a run spawns, where the environment forbids one:
their own cache under the run directory, nothing in the source tree, and an opt-out."""

from __future__ import annotations

import importlib
import os
import sys

import httpx

from conftest import app_command
from harness.infra import bytecode_cached, with_bytecode_cache
from harness.stack._stack import Stack


def test_a_process_forbidden_to_write_bytecode_writes_it_to_harness_cache(make_config, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    config = make_config({"api": {"command": app_command()}})
    stack = Stack(config, "bytecode")
    state = stack.up("sqlite", auto_ports=True)
    try:
        env = httpx.get(state.services["api"].url + "/env").json()
    finally:
        assert stack.down().ok

    cache = config.run_dir / "pycache"
    assert env["PYTHONPYCACHEPREFIX"] == str(cache)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert list(cache.rglob("*.pyc"))  # what the service imported, compiled once


def test_bytecode_cache_false_leaves_the_environment_as_it_is(make_config, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    config = make_config({"api": {"command": app_command()}}, bytecode_cache=False)
    stack = Stack(config, "no-bytecode")
    state = stack.up("sqlite", auto_ports=True)
    try:
        env = httpx.get(state.services["api"].url + "/env").json()
    finally:
        assert stack.down().ok

    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and "PYTHONPYCACHEPREFIX" not in env
    assert not (config.run_dir / "pycache").exists()


def test_an_environment_that_may_write_bytecode_or_names_its_cache_is_kept(tmp_path):
    allowed = {"PATH": "/usr/bin"}
    own_cache = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": "/cache"}

    assert with_bytecode_cache(allowed, tmp_path, tmp_path) == allowed
    assert with_bytecode_cache(own_cache, tmp_path, tmp_path) == {"PYTHONPYCACHEPREFIX": "/cache"}
    assert with_bytecode_cache({"PYTHONDONTWRITEBYTECODE": ""}, tmp_path, tmp_path) == {
        "PYTHONDONTWRITEBYTECODE": ""  # empty: Python writes bytecode already
    }


def test_harness_own_imports_of_a_project_are_cached_while_the_block_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "cached_models.py").write_text("TABLES = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path / "project"))

    with bytecode_cached(tmp_path / "run", tmp_path / "project"):
        importlib.import_module("cached_models")

    assert [p.name for p in (tmp_path / "run" / "pycache").rglob("*.pyc")] == [
        f"cached_models.{sys.implementation.cache_tag}.pyc"
    ]
    assert not (tmp_path / "project" / "__pycache__").exists()
    assert sys.dont_write_bytecode is True and sys.pycache_prefix is None  # as they were


def test_a_same_size_rewrite_in_the_second_it_was_compiled_is_not_run_stale(tmp_path, monkeypatch):
    # Python trusts cached bytecode while its source keeps its size and its whole second
    # of modification time: the rewrite below keeps both, as a fast tool's would
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    project, run = tmp_path / "project", tmp_path / "run"
    project.mkdir()
    module = project / "racing_module.py"
    module.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(project))
    with bytecode_cached(run, project):
        assert importlib.import_module("racing_module").VALUE == 1
    modified = module.stat().st_mtime
    module.write_text("VALUE = 2\n")
    os.utime(module, (modified, modified))
    del sys.modules["racing_module"]

    with bytecode_cached(run, project):
        assert importlib.import_module("racing_module").VALUE == 2
