"""harness.infra._state: the state file, its lock, and the ledger of created databases."""

from __future__ import annotations

import json

import pytest

from harness.exceptions import RunStateError
from harness.infra._processes import ProcessRecord
from harness.infra._state import CreatedDatabases, RunDirectory, RunState, ServiceRecord


def state(token: str) -> RunState:
    return RunState(run_id="r", token=token, backend="sqlite", phase="up", owner=None)


def test_a_late_teardown_of_a_replaced_run_neither_overwrites_nor_removes_it(tmp_path):
    run = RunDirectory(tmp_path / "runs", "r")
    run.save(state("old"))
    run.state_path.unlink()  # the old run was taken down by someone else ...
    run.save(state("new"))  # ... and a new one claimed the name

    with pytest.raises(RunStateError, match="claimed by another command"):
        run.save(state("old"))
    run.remove("old")

    assert run.load().token == "new"
    run.remove("new")
    assert not run.path.exists()


def test_the_lock_is_reentrant_within_a_thread(tmp_path):
    run = RunDirectory(tmp_path / "runs", "r")
    with run.locked(), run.locked():
        run.save(state("t"))
    assert run.load().token == "t"


def test_the_ledger_holds_exactly_the_names_added_and_not_discarded(tmp_path):
    ledger = CreatedDatabases(tmp_path / "databases")
    assert ledger.names() == []
    ledger.add("harness_a")
    ledger.add("harness_a_m1")
    ledger.discard("harness_a")
    ledger.discard("never_added")

    assert ledger.names() == ["harness_a_m1"]


def test_a_state_file_with_dependency_levels_reads_as_dependencies(tmp_path):
    """Written before services recorded what they depend on: a level means every lower one."""
    run = RunDirectory(tmp_path / "runs", "r")
    recorded = state("t")
    recorded.services = {
        name: ServiceRecord(name, ProcessRecord(1, 0.0, ("x",)), 1, "", "", "")
        for name in ("a", "b", "c")
    }
    text = json.loads(recorded.to_json())
    for name, level in (("a", 0), ("b", 0), ("c", 1)):
        del text["services"][name]["depends_on"]
        text["services"][name]["level"] = level
    run.path.mkdir(parents=True)
    run.state_path.write_text(json.dumps(text))

    services = run.load().services

    assert [services[name].depends_on for name in ("a", "b", "c")] == [[], [], ["a", "b"]]
