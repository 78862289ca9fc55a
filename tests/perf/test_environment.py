"""The setup a run's timings depend on: read from this machine, the database's storage from
the mount table; and a regression against a baseline of another setup is a notice naming
what differs, never a failure."""

from __future__ import annotations

import os

from harness.infra import DatabaseRecord
from harness.perf import _environment as environment
from harness.perf import _verdicts as verdicts
from harness.perf._regression import Comparison

HERE = {"node": "a", "system": "Linux", "python": "3.11.7", "cpu_model": "Xeon", "cpus": "2"}


def test_this_machine_is_described_with_every_judged_trait():
    described = environment.describe(None)

    assert set(environment.JUDGED) <= set(described)
    assert float(described["cpus"]) <= len(os.sched_getaffinity(0))
    assert described["database_storage"] == "none"


def test_only_a_judged_trait_both_sides_recorded_is_a_difference():
    moved = {**HERE, "node": "b", "system": "Linux 6", "cpus": "1.5"}
    older = {key: value for key, value in HERE.items() if key != "cpus"}

    assert environment.differences(HERE, moved) == ["cpus 2 then, 1.5 now"]
    assert environment.differences(older, moved) == []  # a baseline from before the trait
    assert environment.differences(HERE, dict(HERE)) == []


def test_where_the_database_lives(tmp_path):
    on_disk = DatabaseRecord("sqlite", str(tmp_path / "database.sqlite3"), "")
    server = DatabaseRecord("postgres", "harness_x", "postgresql://db.example/harness_x")

    assert environment.database_storage(on_disk) in {"disk", "memory"}  # as tmp_path's mount
    assert environment.database_storage(server) == "server"
    in_memory = DatabaseRecord("sqlite", "/dev/shm/harness-x/database.sqlite3", "")
    assert environment.database_storage(in_memory) == "memory"


REGRESSED = Comparison(0.25, 0.001, True, True, "slower by 25% (significant, p=0.001)")


def test_a_regression_against_another_setup_is_a_notice_naming_it_and_the_fix():
    judged = verdicts.judge_setup(REGRESSED, ["database_storage memory then, disk now"], "sqlite")

    assert not judged.regressed and judged.inconclusive
    assert "(database_storage memory then, disk now)" in judged.text
    assert judged.text.endswith("record it where this gate runs: invoke perf.baseline --db sqlite")


def test_a_regression_on_the_same_setup_stands():
    assert verdicts.judge_setup(REGRESSED, [], "sqlite") == REGRESSED
