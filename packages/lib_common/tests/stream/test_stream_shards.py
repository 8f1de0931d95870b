"""The shard plan: a per-connection cap, fill-first assignment, diffs, retirement."""

from __future__ import annotations

import pytest

from lib_common.ingestors.yahoo.stream_shards import PlanChange, ShardPlan


def names(count: int, prefix: str = "S") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(count)]


def test_symbols_spread_over_shards_of_at_most_cap() -> None:
    """120 symbols with cap 100 make one full shard and one of 20."""
    plan = ShardPlan(100)
    change = plan.set_symbols(names(120))
    assert change.created == (0, 1)
    assert plan.shard_ids() == (0, 1)
    assert len(plan.symbols_of(0)) == 100
    assert len(plan.symbols_of(1)) == 20
    assert tuple(names(120)[100:]) == plan.symbols_of(1)


def test_only_the_difference_changes() -> None:
    """set_symbols reports exactly the added and removed symbols and their shards."""
    plan = ShardPlan(3)
    plan.set_symbols(["A", "B", "C", "D"])
    change = plan.set_symbols(["B", "C", "D", "E"])
    assert PlanChange(added=("E",), removed=("A",), touched=(0,), created=()) == change
    assert PlanChange() == plan.set_symbols(["E", "D", "C", "B"])  # same set: nothing
    assert not plan.set_symbols(["B", "C", "D", "E"])


def test_new_symbols_fill_existing_shards_first() -> None:
    """A gap left by a removal is filled before any new shard opens."""
    plan = ShardPlan(2)
    plan.add(["A", "B", "C", "D"])  # shards 0: A B, 1: C D
    plan.remove(["A", "D"])
    change = plan.add(["E", "F", "G"])
    assert plan.shard_of("E") == 0
    assert plan.shard_of("F") == 1
    assert plan.shard_of("G") == 2
    assert change.created == (2,)


def test_removal_does_not_move_other_symbols() -> None:
    """No rebalancing: emptying most of shard 0 leaves shard 1's symbols where they are."""
    plan = ShardPlan(2)
    plan.add(["A", "B", "C"])
    plan.remove(["A", "B"])
    assert plan.symbols_of(0) == ()
    assert plan.symbols_of(1) == ("C",)
    assert plan.shard_ids() == (0, 1)  # the empty shard waits for retirement


def test_retire_drops_only_an_empty_shard_and_ids_are_never_reused() -> None:
    """retire() refuses a refilled shard; after retirement a new shard gets a fresh id."""
    plan = ShardPlan(2)
    plan.add(["A"])
    plan.remove(["A"])
    plan.add(["B"])  # refilled before the grace ran out
    assert not plan.retire(0)
    plan.remove(["B"])
    assert plan.retire(0)
    assert plan.shard_ids() == ()
    assert plan.retire(0)  # already gone: nothing to do
    assert plan.add(["C"]).created == (1,)


def test_add_and_remove_ignore_what_is_already_so() -> None:
    """Adding a wanted symbol or removing an unwanted one changes nothing."""
    plan = ShardPlan(5)
    plan.add(["A", "A", "B"])
    assert plan.symbols_of(0) == ("A", "B")
    assert not plan.add(["A"])
    assert not plan.remove(["Z"])
    assert len(plan) == 2
    assert "A" in plan
    assert frozenset({"A", "B"}) == plan.symbols


@pytest.mark.parametrize("bad", [[""], [None], "AAPL"])
def test_bad_input_is_refused(bad: object) -> None:
    """Empty names, non-strings and a bare string (not an iterable of symbols) are refused."""
    with pytest.raises((ValueError, TypeError)):
        ShardPlan(5).add(bad)  # type: ignore[arg-type]


def test_cap_must_be_positive() -> None:
    """A cap of 0 is a ValueError."""
    with pytest.raises(ValueError):
        ShardPlan(0)
