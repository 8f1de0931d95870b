"""Reconnect delays: capped exponential backoff with full jitter, a floor, healthy reset."""

from __future__ import annotations

import itertools

import pytest

from lib_common.ingestors.yahoo.backoff import Backoff, BackoffPolicy


def test_delays_are_full_jitter_of_a_capped_doubling_ceiling() -> None:
    """Attempt n waits rng() * min(cap, base * 2**(n-1))."""
    draws = itertools.cycle([0.9, 0.25, 0.5])
    backoff = Backoff(BackoffPolicy(base=1.0, cap=10.0, floor=0.0), rng=lambda: next(draws))
    delays = [backoff.next_delay() for _ in range(7)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    expected = [u * c for u, c in zip(itertools.cycle([0.9, 0.25, 0.5]), ceilings, strict=False)]
    assert expected == pytest.approx(delays)
    assert backoff.attempt == 7


def test_extreme_draws_span_zero_to_the_ceiling() -> None:
    """A draw of 0 gives the floor and a draw near 1 nearly the whole ceiling."""
    policy = BackoffPolicy(base=0.5, cap=30.0, floor=0.05)
    assert policy.delay(1, 0.0) == 0.05
    assert pytest.approx(policy.delay(20, 0.999)) == 30.0 * 0.999
    assert pytest.approx(policy.delay(1, 0.999)) == 0.5 * 0.999


def test_floor_prevents_a_tight_loop_even_when_rng_returns_zero() -> None:
    """With rng always 0 every delay is still the floor, never 0."""
    backoff = Backoff(BackoffPolicy(base=1.0, cap=5.0, floor=0.2), rng=lambda: 0.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.2] * 5


def test_huge_attempt_counts_stay_at_the_cap() -> None:
    """Attempt 10,000 does not overflow: its ceiling is the cap."""
    policy = BackoffPolicy(base=0.5, cap=30.0)
    assert policy.ceiling(10_000) == 30.0
    assert policy.ceiling(0) == 0.5


def test_only_a_healthy_connection_resets_the_attempts() -> None:
    """Reset needs both uptime >= healthy_after and at least one frame."""
    backoff = Backoff(BackoffPolicy(healthy_after=10.0), rng=lambda: 0.5)
    for _ in range(3):
        backoff.next_delay()
    backoff.connection_ended(uptime=60.0, frames=0)  # open but silent: not healthy
    assert backoff.attempt == 3
    backoff.connection_ended(uptime=9.9, frames=500)  # busy but short-lived
    assert backoff.attempt == 3
    backoff.connection_ended(uptime=10.0, frames=1)
    assert backoff.attempt == 0
    assert backoff.next_delay() == 0.25  # back to the first ceiling (0.5) * 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": 0.0},
        {"base": 2.0, "cap": 1.0},
        {"floor": -1.0},
        {"floor": 100.0},
        {"healthy_after": -1.0},
    ],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    """Zero base, base above cap, a negative or oversized floor are ValueErrors."""
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)
