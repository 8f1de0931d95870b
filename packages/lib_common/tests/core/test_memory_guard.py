"""MemoryGuard: byte accounting and the eviction policy."""

from __future__ import annotations

import pytest

from lib_common.core.memory_guard import EvictionReason, MemoryGuard, Priority, Victim


def guard_with(*clients: tuple[str, Priority, int], **kwargs: int) -> MemoryGuard[str]:
    guard = MemoryGuard[str](**kwargs)
    for name, priority, buffered in clients:
        guard.add_client(name, priority)
        guard.set_pending(name, buffered)
    return guard


def test_accounting_tracks_pending_transport_and_peak() -> None:
    """Pending and transport bytes add up per client and globally; peak is kept."""
    guard = MemoryGuard[str](budget=1000)
    guard.add_client("a")
    guard.add_client("b", Priority.HIGH)
    guard.set_pending("a", 300)
    guard.set_pending("b", 100)
    guard.set_pending("a", 0)  # written to the transport...
    guard.set_transport("a", 250)  # ...which sent 50 of it at once
    assert guard.usage("a") == 250
    assert guard.total == 350
    assert guard.stats().peak_bytes == 400
    assert guard.remove_client("b") == 100
    assert guard.total == 250
    assert guard.usage("gone") == 0


def test_over_budget_is_strictly_above_the_budget() -> None:
    """Exactly at the budget is fine; one byte more is over."""
    guard = guard_with(("a", Priority.NORMAL, 100), budget=100)
    assert not guard.over_budget()
    guard.set_pending("a", 101)
    assert guard.over_budget()


def test_client_over_cap_is_a_slow_consumer_even_under_budget() -> None:
    """Passing the per-client cap makes that client a victim whatever the total."""
    guard = guard_with(
        ("a", Priority.HIGH, 600), ("b", Priority.LOW, 100), budget=10_000, client_cap=500
    )
    assert guard.over_cap("a")
    assert [Victim("a", EvictionReason.SLOW_CONSUMER, 600)] == guard.pick_victims()


def test_pressure_evicts_low_priority_then_most_lagging_until_low_water() -> None:
    """Over budget: lowest priority first, most buffered first, down to the low-water mark."""
    guard = guard_with(
        ("high-big", Priority.HIGH, 400),
        ("normal-small", Priority.NORMAL, 100),
        ("normal-big", Priority.NORMAL, 300),
        ("low-small", Priority.LOW, 50),
        ("low-big", Priority.LOW, 200),
        budget=1000,
        low_water=600,
        client_cap=1000,
    )
    guard.set_pending("low-small", 51)  # total 1051 > 1000
    victims = guard.pick_victims()
    # 1051 - 200 (low-big) - 51 (low-small) = 800 > 600 → next: normal-big → 500 ≤ 600.
    assert [v.client for v in victims] == ["low-big", "low-small", "normal-big"]
    assert {EvictionReason.MEMORY_PRESSURE} == {v.reason for v in victims}


def test_no_victims_under_budget() -> None:
    """Under budget and under every cap, nobody is evicted."""
    guard = guard_with(("a", Priority.LOW, 900), budget=1000, client_cap=1000)
    assert guard.pick_victims() == []


def test_clients_holding_nothing_are_never_picked() -> None:
    """Evicting an idle client frees nothing, so pressure never picks it."""
    guard = guard_with(
        ("idle", Priority.LOW, 0), ("busy", Priority.HIGH, 200), budget=100, low_water=50
    )
    assert [v.client for v in guard.pick_victims()] == ["busy"]


def test_cap_victims_count_towards_relief() -> None:
    """Bytes freed by slow-consumer victims are counted before picking more."""
    guard = guard_with(
        ("hog", Priority.HIGH, 700), ("low", Priority.LOW, 350), budget=1000, client_cap=600
    )
    assert [v.client for v in guard.pick_victims()] == ["hog"]


def test_record_eviction_counts_by_reason_and_releases_bytes() -> None:
    """Evictions are counted per reason and the client's bytes leave the total."""
    guard = guard_with(("a", Priority.LOW, 700), client_cap=500)
    (victim,) = guard.pick_victims()
    guard.record_eviction(victim)
    stats = guard.stats()
    assert stats.evictions == {"slow_consumer": 1, "memory_pressure": 0}
    assert stats.guarded_bytes == 0
    assert stats.clients == 0


def test_default_low_water_is_three_quarters_and_config_is_checked() -> None:
    """low_water defaults to 75 % of the budget; inconsistent settings are refused."""
    assert MemoryGuard[str](budget=1000).low_water == 750
    with pytest.raises(ValueError):
        MemoryGuard[str](budget=100, low_water=200)
    with pytest.raises(ValueError):
        MemoryGuard[str](client_cap=0)


def test_duplicate_client_is_refused() -> None:
    """A client id is guarded once."""
    guard = MemoryGuard[str]()
    guard.add_client("a")
    with pytest.raises(ValueError):
        guard.add_client("a")


@pytest.mark.parametrize(
    ("text", "priority"),
    [("high", Priority.HIGH), ("Normal", Priority.NORMAL), (" low ", Priority.LOW)],
)
def test_priority_parses_query_values(text: str, priority: Priority) -> None:
    """`?priority=` values map to the enum, case-insensitively."""
    assert priority == Priority.parse(text)


def test_priority_parse_rejects_unknown() -> None:
    """Anything but high/normal/low is an error naming the choices."""
    with pytest.raises(ValueError, match="high, normal or low"):
        Priority.parse("urgent")
