"""The lease and the token gate: leadership decisions as plain function calls."""

from __future__ import annotations

from rsdev_servers.cluster.lease import Lease, TokenGate, lock_value, parse_lock_value


def test_lock_value_round_trips() -> None:
    """The lock value carries the token and the node, and parses back."""
    assert (7, "host-1-abc") == parse_lock_value(lock_value(7, "host-1-abc").encode())
    assert parse_lock_value("x node") is None
    assert parse_lock_value("7") is None


def test_lease_renews_at_a_third_and_gives_up_at_two_thirds() -> None:
    """Renew at ttl/3 after the last renew *sent*; invalid from 2·ttl/3 on."""
    lease = Lease(token=3, node_id="a", ttl=3.0, renewed_at=100.0)
    assert 101.0 == lease.next_renew
    assert 102.0 == lease.deadline
    assert lease.valid(101.999)
    assert not lease.valid(102.0)


def test_a_successful_renew_moves_the_deadline_by_its_send_time() -> None:
    """The deadline counts from when the renew was sent, never from a later reply."""
    lease = Lease(token=3, node_id="a", ttl=3.0, renewed_at=100.0)
    lease.renewed(101.0)
    assert 103.0 == lease.deadline
    lease.renewed(100.5)  # an older renew confirmed late does not move it back
    assert 103.0 == lease.deadline


def test_a_revoked_lease_is_invalid_at_once() -> None:
    """Redis said the lock is someone else's: the term ends whatever the clock says."""
    lease = Lease(token=3, node_id="a", ttl=3.0, renewed_at=100.0)
    lease.revoke()
    assert not lease.valid(100.0)
    assert "3 a" == lease.value


def test_gate_drops_older_terms_and_follows_newer_ones() -> None:
    """Messages from a lower token are dropped and counted; a higher one becomes current."""
    gate = TokenGate()
    assert gate.accept(2)
    assert not gate.accept(1)
    assert gate.accept(3)
    assert not gate.accept(2)
    assert 3 == gate.current
    assert 2 == gate.rejected


def test_only_the_lock_may_lower_the_gate() -> None:
    """An announcement raises the token; the lock (after a Redis reset) may lower it."""
    gate = TokenGate(current=9)
    gate.raise_to(4)
    assert 9 == gate.current
    gate.observe_lock(4)
    assert 4 == gate.current
    assert gate.accept(4)
