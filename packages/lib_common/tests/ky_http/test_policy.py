"""Tests for RetryPolicy.decide, the full-jitter backoff and Retry-After parsing (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from lib_common.ky_http import (
    IDEMPOTENT_METHODS,
    Failure,
    RetryDecision,
    RetryPolicy,
    parse_retry_after,
)

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def decide(policy: RetryPolicy, **kwargs: Any) -> RetryDecision:
    defaults: dict[str, Any] = {
        "method": "GET",
        "attempt": 1,
        "elapsed": 0.0,
        "now": NOW,
        "rng": lambda: 0.5,
    }
    return policy.decide(**(defaults | kwargs))


def test_defaults_match_ky() -> None:
    """Two retries of idempotent methods on 408/425/429/5xx; Retry-After on 413/429/503."""
    policy = RetryPolicy()
    assert policy.limit == 2
    assert frozenset({"GET", "PUT", "HEAD", "DELETE", "OPTIONS", "TRACE"}) == policy.methods
    assert frozenset({408, 425, 429, 500, 502, 503, 504}) == policy.status_codes
    assert frozenset({413, 429, 503}) == policy.after_status_codes


@pytest.mark.parametrize(
    ("retry_index", "rng_value", "expected"),
    [
        (0, 0.0, 0.0),  # full jitter may wait nothing at all
        (0, 0.5, 0.5),  # ceiling base·2⁰ = 1
        (2, 0.5, 2.0),  # ceiling base·2² = 4
        (3, 0.999, 4.995),  # ceiling capped at 5 (base·2³ = 8)
        (200, 1.0, 5.0),  # huge retry numbers stay at the cap, no overflow
    ],
)
def test_backoff_is_full_jitter_under_the_capped_exponential(
    retry_index: int, rng_value: float, expected: float
) -> None:
    """backoff(n) = rng() · min(cap, base·2ⁿ)."""
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=5.0)
    assert policy.backoff(retry_index, lambda: rng_value) == pytest.approx(expected)


def test_backoff_stays_within_bounds_for_many_draws() -> None:
    """Every draw of a seeded rng lies in [0, min(cap, base·2ⁿ)]."""
    import random

    rng = random.Random(7).random
    policy = RetryPolicy(backoff_base=0.3, backoff_cap=2.0)
    for n in range(8):
        ceiling = min(2.0, 0.3 * 2**n)
        delays = [policy.backoff(n, rng) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)


def test_retriable_status_is_retried_with_backoff() -> None:
    """A 503 on GET after the first attempt is retried after the backoff delay."""
    decision = decide(RetryPolicy(backoff_base=1.0), status=503, headers={})
    assert decision.retry
    assert decision.delay == pytest.approx(0.5)


def test_limit_reached_stops() -> None:
    """After limit+1 attempts there is no further retry."""
    policy = RetryPolicy(limit=2)
    assert decide(policy, status=503, attempt=2).retry
    decision = decide(policy, status=503, attempt=3)
    assert not decision.retry
    assert "limit" in decision.reason


def test_limit_zero_never_retries() -> None:
    """limit=0 means one attempt only."""
    assert not decide(RetryPolicy(limit=0), status=503).retry


@pytest.mark.parametrize("status", [200, 201, 301, 400, 404, 413, 501])
def test_other_statuses_are_final(status: int) -> None:
    """Statuses outside status_codes are returned as they are."""
    decision = decide(RetryPolicy(), status=status)
    assert not decision.retry
    assert "final" in decision.reason


def test_post_not_retried_by_default_but_by_opt_in() -> None:
    """POST is retried only when the policy lists it."""
    assert not decide(RetryPolicy(), method="POST", status=503).retry
    opted_in = RetryPolicy(methods=IDEMPOTENT_METHODS | {"post"})
    assert decide(opted_in, method="POST", status=503).retry
    assert "POST" in opted_in.methods


@pytest.mark.parametrize("failure", [Failure.TIMEOUT, Failure.TRANSPORT])
def test_failures_are_retried_for_idempotent_methods(failure: Failure) -> None:
    """Timeouts and transport errors are retried on GET, not on POST."""
    assert decide(RetryPolicy(), failure=failure).retry
    assert not decide(RetryPolicy(), failure=failure, method="POST").retry


def test_no_status_and_no_failure_is_never_retried() -> None:
    """An error outside the retriable classes is not retried."""
    assert not decide(RetryPolicy()).retry


def test_retry_after_seconds_is_the_delay() -> None:
    """429 with Retry-After: 2 waits exactly 2 s, not the backoff."""
    decision = decide(RetryPolicy(), status=429, headers={"retry-after": "2"})
    assert decision.retry
    assert decision.delay == 2.0
    assert "Retry-After" in decision.reason


def test_retry_after_ignored_outside_after_status_codes() -> None:
    """A 500's Retry-After is not honoured; the backoff applies."""
    decision = decide(RetryPolicy(backoff_base=1.0), status=500, headers={"retry-after": "9"})
    assert decision.delay == pytest.approx(0.5)


def test_retry_after_beyond_max_gives_up() -> None:
    """A Retry-After longer than max_retry_after stops the retries."""
    decision = decide(RetryPolicy(max_retry_after=10), status=503, headers={"retry-after": "11"})
    assert not decision.retry
    assert "exceeds" in decision.reason


def test_retry_after_date_is_measured_against_the_response_date() -> None:
    """An HTTP-date Retry-After counts from the server's Date header when present."""
    server_now = NOW - timedelta(hours=1)  # the server's clock is an hour behind ours
    headers = {
        "date": format_datetime(server_now, usegmt=True),
        "retry-after": format_datetime(server_now + timedelta(seconds=3), usegmt=True),
    }
    assert decide(RetryPolicy(), status=503, headers=headers).delay == 3.0


def test_retry_after_date_without_date_header_uses_the_wall_clock() -> None:
    """Without a Date header the injected wall clock is the reference."""
    headers = {"retry-after": format_datetime(NOW + timedelta(seconds=4), usegmt=True)}
    assert decide(RetryPolicy(), status=429, headers=headers).delay == 4.0


def test_deadline_stops_a_wait_that_would_overrun_it() -> None:
    """elapsed + delay reaching total_deadline stops; a wait that fits goes ahead."""
    policy = RetryPolicy(total_deadline=10.0)
    headers = {"retry-after": "2"}
    assert decide(policy, status=503, headers=headers, elapsed=7.9).retry
    decision = decide(policy, status=503, headers=headers, elapsed=8.0)
    assert not decision.retry
    assert "deadline" in decision.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-1", None),
        ("soon", None),
        ("", None),
        ("nan", None),
        (None, None),
        ("Mon, 02 Mar 2026 12:00:10 GMT", 10.0),
        ("Mon, 02 Mar 2026 11:59:00 GMT", 0.0),  # already past: retry now
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Delta-seconds and HTTP-dates parse; negatives and garbage do not."""
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": -1}, {"backoff_base": -0.1}, {"max_retry_after": -1}, {"total_deadline": 0}],
)
def test_invalid_policies_are_refused(kwargs: dict[str, Any]) -> None:
    """Negative limits and delays, and a zero deadline, are configuration errors."""
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
