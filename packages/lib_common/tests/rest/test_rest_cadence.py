"""Tests for `PollCadence`, the REST poller's sans-I/O rhythm (plain calls, no event loop)."""

from __future__ import annotations

import pytest

from lib_common.ingestors.yahoo.rest_cadence import CadenceSettings, PollCadence


def _cadence(**settings: float) -> PollCadence:
    return PollCadence(CadenceSettings(**settings))


def test_first_round_may_start_at_once() -> None:
    """A new cadence lets the first round start immediately and send freely."""
    cadence = _cadence(interval=10.0)
    assert cadence.next_poll_at() <= 0.0
    assert cadence.may_send(0.0)


def test_success_keeps_base_interval() -> None:
    """After a good round the next one starts one interval later."""
    cadence = _cadence(interval=10.0)
    cadence.on_success(100.0)
    assert cadence.next_poll_at() == 110.0
    assert cadence.interval == 10.0


def test_rate_limit_waits_retry_after_and_slows_down() -> None:
    """429 with Retry-After 20 at t=100: nothing before 120, and the interval doubles."""
    cadence = _cadence(interval=10.0)
    cadence.on_rate_limited(100.0, 20.0)
    assert cadence.next_poll_at() == 120.0
    assert not cadence.may_send(119.999)
    assert cadence.may_send(120.0)
    assert cadence.interval == 20.0


def test_rate_limit_waits_the_slowed_interval_when_longer() -> None:
    """A short Retry-After still yields the slowed interval (10 s × 2) before the next round."""
    cadence = _cadence(interval=10.0)
    cadence.on_rate_limited(100.0, 2.0)
    assert cadence.next_poll_at() == 120.0
    assert cadence.may_send(102.0)


def test_rate_limit_without_retry_after_uses_interval() -> None:
    """No Retry-After: the next round waits the slowed interval."""
    cadence = _cadence(interval=10.0)
    cadence.on_rate_limited(100.0, None)
    assert cadence.next_poll_at() == 120.0


def test_repeated_rate_limits_compound_up_to_max_interval() -> None:
    """Each 429 doubles the factor; the effective interval never exceeds max_interval."""
    cadence = _cadence(interval=10.0, max_interval=60.0)
    intervals = []
    for i in range(5):
        cadence.on_rate_limited(100.0 * i, None)
        intervals.append(cadence.interval)
    assert intervals == [20.0, 40.0, 60.0, 60.0, 60.0]
    assert cadence.factor == 6.0


def test_recovery_halves_extra_factor_each_success() -> None:
    """factor 4 → 2.5 → 1.75 → 1.375 …, and snaps back to exactly 1 once the extra is < 1 %."""
    cadence = _cadence(interval=10.0)
    cadence.on_rate_limited(0.0, None)
    cadence.on_rate_limited(0.0, None)
    factors = []
    for i in range(10):
        cadence.on_success(float(i))
        factors.append(cadence.factor)
    assert factors[:4] == [2.5, 1.75, 1.375, 1.1875]
    assert factors[-1] == 1.0
    assert cadence.interval == 10.0


def test_hold_blocks_sending_without_moving_next_round_earlier() -> None:
    """`hold` forbids sending until it ends and pushes next_poll_at to at least its end."""
    cadence = _cadence(interval=10.0)
    cadence.on_success(0.0)
    cadence.hold(5.0, 30.0)
    assert not cadence.may_send(34.0)
    assert cadence.next_poll_at() == 35.0
    cadence.hold(6.0, 1.0)  # a shorter hold never shortens the current one
    assert cadence.next_poll_at() == 35.0


def test_outage_backs_off_exponentially_and_caps() -> None:
    """Outage n waits max(I, min(cap, base·2^(n−1))): 5, 10, 20, 40, 40 with cap 40."""
    cadence = _cadence(interval=1.0, backoff_base=5.0, backoff_cap=40.0)
    waits = []
    now = 0.0
    for _ in range(5):
        cadence.on_outage(now)
        waits.append(cadence.next_poll_at() - now)
        assert not cadence.may_send(now + waits[-1] - 0.001)
        now = cadence.next_poll_at()
    assert waits == [5.0, 10.0, 20.0, 40.0, 40.0]


def test_outage_honours_longer_retry_after() -> None:
    """A Retry-After on the outage response beats a shorter backoff."""
    cadence = _cadence(interval=1.0, backoff_base=5.0)
    cadence.on_outage(0.0, 90.0)
    assert cadence.next_poll_at() == 90.0


def test_success_resets_outage_backoff() -> None:
    """After a good round the next outage starts the backoff from its base again."""
    cadence = _cadence(interval=1.0, backoff_base=5.0)
    cadence.on_outage(0.0)
    cadence.on_outage(5.0)
    cadence.on_success(15.0)
    assert cadence.failures == 0
    cadence.on_outage(16.0)
    assert cadence.next_poll_at() == 21.0


@pytest.mark.parametrize(
    "settings",
    [
        {"interval": 0.0},
        {"interval": 10.0, "max_interval": 5.0},
        {"slowdown": 0.5},
        {"backoff_base": 0.0},
        {"backoff_base": 10.0, "backoff_cap": 5.0},
    ],
)
def test_invalid_settings_are_refused(settings: dict[str, float]) -> None:
    """Settings that make no sense raise ValueError."""
    with pytest.raises(ValueError):
        CadenceSettings(**settings)
