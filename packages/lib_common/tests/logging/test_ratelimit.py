"""Tests for the token bucket (time passed in, no clock)."""

from __future__ import annotations

import pytest

from lib_common.logging import TokenBucket


def test_minimum_interval_with_burst_one() -> None:
    """With burst=1 the second event inside the interval is refused, the next after it allowed."""
    bucket = TokenBucket(interval=10.0)
    assert [bucket.allow(t) for t in (0.0, 1.0, 9.9, 10.0)] == [True, False, False, True]


def test_burst_then_steady_rate() -> None:
    """A burst of three passes at once; afterwards one per interval."""
    bucket = TokenBucket(interval=5.0, burst=3)
    assert [bucket.allow(0.0) for _ in range(4)] == [True, True, True, False]
    assert [bucket.allow(5.0), bucket.allow(6.0)] == [True, False]


def test_tokens_do_not_accumulate_beyond_burst() -> None:
    """A long quiet spell earns at most ``burst`` tokens."""
    bucket = TokenBucket(interval=1.0, burst=2)
    bucket.allow(0.0)
    assert [bucket.allow(1_000.0) for _ in range(3)] == [True, True, False]


def test_zero_interval_never_limits() -> None:
    """interval=0 switches limiting off."""
    bucket = TokenBucket(interval=0.0)
    assert all(bucket.allow(0.0) for _ in range(5))


def test_invalid_arguments() -> None:
    """Negative intervals and empty buckets are refused."""
    with pytest.raises(ValueError):
        TokenBucket(interval=-1.0)
    with pytest.raises(ValueError):
        TokenBucket(interval=1.0, burst=0)
