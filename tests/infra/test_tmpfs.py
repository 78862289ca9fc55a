"""harness.infra._tmpfs: a directory on tmpfs when it has room, else where the caller says."""

from __future__ import annotations

from harness.infra import _tmpfs as tmpfs


def test_a_directory_of_its_own_on_tmpfs_when_it_has_room(tmp_path, monkeypatch):
    monkeypatch.setattr(tmpfs, "TMPFS", tmp_path / "shm")
    (tmp_path / "shm").mkdir()

    made = tmpfs.directory_or_under("harness-x-", 1, tmp_path / "disk")

    assert made.parent == tmp_path / "shm" and made.name.startswith("harness-x-")
    assert not (tmp_path / "disk").exists()


def test_the_fallback_when_tmpfs_lacks_room_or_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(tmpfs, "TMPFS", tmp_path / "shm")
    (tmp_path / "shm").mkdir()
    assert tmpfs.directory("harness-x-", 2**62) is None

    made = tmpfs.directory_or_under("harness-x-", 2**62, tmp_path / "disk")
    assert made.parent == tmp_path / "disk"

    monkeypatch.setattr(tmpfs, "TMPFS", tmp_path / "missing")
    assert tmpfs.directory("harness-x-", 1) is None
