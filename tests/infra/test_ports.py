"""Ports: free checks, who holds a port, reservations that keep concurrent runs apart."""

from __future__ import annotations

import os
import socket

import pytest

from conftest import patience
from harness.infra import _ports as ports
from harness.infra._ports import PortReservations, is_port_free, port_owner, wait_until_free


def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_listening_port_is_not_free_and_its_owner_is_named():
    with listener() as sock:
        port = sock.getsockname()[1]

        assert not is_port_free(port)
        assert port_owner(port).startswith(f"pid {os.getpid()}: ")
    assert is_port_free(port)


def test_wait_until_free_gives_up_while_held_and_returns_once_released():
    sock = listener()
    port = sock.getsockname()[1]

    assert not wait_until_free(port, timeout=0.1)
    sock.close()
    assert wait_until_free(port, timeout=patience(1.0))


def test_a_reserved_port_is_not_handed_to_another_run(tmp_path):
    runs = tmp_path / "runs"
    (runs / "one").mkdir(parents=True)
    (runs / "two").mkdir()
    reservations = PortReservations(tmp_path / "ports", runs)

    port = reservations.free_port("one")

    assert reservations.holder(port) == "one"
    assert not reservations.reserve(port, "one")  # never one port twice
    assert not reservations.reserve(port, "two")
    reservations.release(port, "two")  # not theirs: ignored
    assert reservations.holder(port) == "one"
    reservations.release(port, "one")
    assert reservations.reserve(port, "two")
    other = reservations.free_port("two")
    reservations.release_all("two")
    assert reservations.holder(port) is None and reservations.holder(other) is None


def test_a_run_is_never_handed_a_port_it_already_holds(tmp_path, monkeypatch):
    """The OS may offer a port again before the service it went to has bound it (a CI run
    once gave two services of one run the same port, and the second passed as healthy
    on the first one's /health)."""
    runs = tmp_path / "runs"
    (runs / "one").mkdir(parents=True)
    reservations = PortReservations(tmp_path / "ports", runs)
    offered = iter([50001, 50001, 50003])
    monkeypatch.setattr(ports, "unbound_port", lambda: next(offered))

    assert [reservations.free_port("one"), reservations.free_port("one")] == [50001, 50003]


def test_no_free_port_after_every_attempt_is_a_clear_error(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    (runs / "one").mkdir(parents=True)
    reservations = PortReservations(tmp_path / "ports", runs)
    monkeypatch.setattr(ports, "unbound_port", lambda: 50001)
    assert reservations.free_port("one") == 50001

    with pytest.raises(RuntimeError, match="no free port found in 3 attempts"):
        reservations.free_port("one", attempts=3)


def test_reservations_of_vanished_runs_are_stale(tmp_path):
    runs = tmp_path / "runs"
    (runs / "alive").mkdir(parents=True)
    reservations = PortReservations(tmp_path / "ports", runs)
    assert reservations.reserve(50001, "gone")  # its run directory does not exist
    assert reservations.reserve(50002, "alive")

    assert reservations.clean_stale() == [50001]
    assert reservations.holder(50002) == "alive"
    assert reservations.reserve(50001, "alive")  # a stale reservation does not block
