"""The per-client token bucket and error budget, driven with plain timestamps."""

from __future__ import annotations

import pytest

from rsdev_servers.common.ratelimit import ErrorBudget, TokenBucket


def test_bucket_allows_burst_then_rate() -> None:
    """`burst` operations pass at once; then one per 1/rate seconds."""
    bucket = TokenBucket(rate=10, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.05)
    assert bucket.take(0.1)
    assert not bucket.take(0.1)


def test_bucket_refills_only_to_burst() -> None:
    """A long pause refills to `burst`, not beyond."""
    bucket = TokenBucket(rate=10, burst=2, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert pytest.approx(bucket.available(100.0)) == 2
    assert [bucket.take(100.0) for _ in range(3)] == [True, True, False]


def test_bucket_ignores_time_going_back() -> None:
    """An earlier `now` neither refills nor breaks the bucket."""
    bucket = TokenBucket(rate=1, burst=1, now=10.0)
    assert bucket.take(10.0)
    assert not bucket.take(5.0)
    assert bucket.take(11.0)


def test_bucket_thousand_ops_per_second() -> None:
    """1,000 requests in one second against 20/s burst 40 → about 60 pass."""
    bucket = TokenBucket(rate=20, burst=40, now=0.0)
    passed = sum(bucket.take(i / 1000) for i in range(1000))
    assert 59 <= passed <= 61


def test_error_budget_window() -> None:
    """More than `limit` errors within `window` is abuse; spread out, never."""
    budget = ErrorBudget(limit=3, window=10.0)
    assert [budget.record(t) for t in (0.0, 1.0, 2.0, 3.0)] == [False, False, False, True]
    spread = ErrorBudget(limit=3, window=10.0)
    assert not any(spread.record(t * 4.0) for t in range(100))
    assert spread.recent(99 * 4.0) == 3


def test_invalid_parameters() -> None:
    """Nonsense limits are refused at construction."""
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0)
    with pytest.raises(ValueError):
        ErrorBudget(limit=0, window=1)
