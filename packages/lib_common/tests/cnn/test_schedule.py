"""Tests for `FearGreedSchedule`: the self-scheduling delay, with injected times (plain calls)."""

from __future__ import annotations

import itertools
import math

import pytest

from lib_common.ingestors.cnn import FearGreedSchedule, ScheduleSettings


def _feed(
    schedule: FearGreedSchedule, start: float, scores: list[float], market: bool
) -> list[float]:
    """Observe `scores`, each after the delay the schedule chose; return those delays."""
    now = start
    delays = []
    for score in scores:
        schedule.observe(score, now)
        delay = schedule.next_delay(market)
        delays.append(delay)
        now += delay
    return delays


def test_flat_score_uses_base_delay() -> None:
    """A score that never moves keeps the open-market delay at `base` (300 s)."""
    delays = _feed(FearGreedSchedule(), 0.0, [50.0] * 5, market=True)
    assert delays == [300.0] * 5


def _climb(rate: float, polls: int) -> list[float]:
    """Delays chosen while the score climbs `rate` points a minute."""
    schedule = FearGreedSchedule()
    now, score, delays = 0.0, 50.0, []
    schedule.observe(score, now)
    for _ in range(polls):
        delay = schedule.next_delay(market_open=True)
        delays.append(delay)
        now += delay
        score += rate * delay / 60.0
        schedule.observe(score, now)
    return delays


def test_interval_shortens_while_score_moves() -> None:
    """At 0.2 pt/min every delay is shorter than the last, towards 300 / (1 + 10·0.2) = 100 s."""
    delays = _climb(0.2, 8)
    assert delays[0] == 300.0
    assert all(later < earlier for earlier, later in itertools.pairwise(delays))
    assert 100.0 < delays[-1] < 115.0


def test_fast_moves_reach_min_interval() -> None:
    """At 1 pt/min the delay drops to the 60 s minimum and stays there."""
    assert _climb(1.0, 5)[2:] == [60.0, 60.0, 60.0]


def test_interval_lengthens_again_when_score_goes_flat() -> None:
    """After movement stops, the delays grow steadily from the minimum back towards `base`."""
    schedule = FearGreedSchedule()
    now, score = 0.0, 50.0
    for _ in range(5):  # move first: 2 points a minute
        schedule.observe(score, now)
        now += 60.0
        score += 2.0
    moving = schedule.next_delay(market_open=True)
    delays = _feed(schedule, now, [score - 2.0] * 20, market=True)
    assert moving == 60.0
    assert delays == sorted(delays)
    unclamped = [d for d in delays if d > 60.0]
    assert all(later > earlier for earlier, later in itertools.pairwise(unclamped))
    assert 250.0 < delays[-1] <= 300.0


def test_market_closed_waits_longer() -> None:
    """With the same movement, the closed-market delay is `closed_factor` times longer."""
    schedule = FearGreedSchedule()
    schedule.observe(50.0, 0.0)
    schedule.observe(50.5, 300.0)  # 0.1 pt/min
    open_delay = schedule.next_delay(market_open=True)
    closed_delay = schedule.next_delay(market_open=False)
    assert closed_delay == pytest.approx(4.0 * open_delay)
    assert closed_delay > open_delay


def test_closed_and_flat_is_capped_at_max_interval() -> None:
    """Closed and flat: 4 × 300 s = 1200 s; a larger factor is capped at max_interval."""
    assert FearGreedSchedule().next_delay(market_open=False) == 1200.0
    settings = ScheduleSettings(closed_factor=10.0)
    assert FearGreedSchedule(settings).next_delay(market_open=False) == 1800.0


@pytest.mark.parametrize("jump", [0.0, 0.01, 1.0, 50.0, 100.0])
@pytest.mark.parametrize("market", [True, False])
def test_delay_always_within_bounds(jump: float, market: bool) -> None:
    """Whatever the movement, the delay stays in [min_interval, max_interval]."""
    settings = ScheduleSettings(min_interval=90.0, max_interval=900.0)
    schedule = FearGreedSchedule(settings)
    schedule.observe(0.0, 0.0)
    schedule.observe(jump, 60.0)
    assert 90.0 <= schedule.next_delay(market) <= 900.0


def test_movement_is_time_weighted_average() -> None:
    """One 6-point move over 10 minutes after 0 movement: m = 0.6 · (1 − e^(−600/600))."""
    schedule = FearGreedSchedule()
    schedule.observe(40.0, 0.0)
    schedule.observe(46.0, 600.0)
    assert schedule.movement == pytest.approx(0.6 * (1.0 - math.exp(-1.0)))
    expected = 300.0 / (1.0 + 10.0 * schedule.movement)
    assert schedule.next_delay(market_open=True) == pytest.approx(expected)


def test_same_instant_observation_is_ignored() -> None:
    """Two observations at the same time cannot define a rate and change nothing."""
    schedule = FearGreedSchedule()
    schedule.observe(40.0, 10.0)
    schedule.observe(90.0, 10.0)
    assert schedule.movement == 0.0


def test_error_backoff_doubles_and_caps() -> None:
    """Failures wait min_interval · 2^(n−1), capped at max_interval; success resets it."""
    schedule = FearGreedSchedule()
    delays = [schedule.on_error() for _ in range(7)]
    assert delays == [60.0, 120.0, 240.0, 480.0, 960.0, 1800.0, 1800.0]
    schedule.observe(50.0, 0.0)
    assert schedule.failures == 0
    assert schedule.on_error() == 60.0


def test_error_backoff_honours_retry_after() -> None:
    """A longer Retry-After wins over the backoff."""
    assert FearGreedSchedule().on_error(retry_after=3600.0) == 3600.0
    assert FearGreedSchedule().on_error(retry_after=5.0) == 60.0


@pytest.mark.parametrize(
    "settings",
    [
        {"min_interval": 0.0},
        {"min_interval": 100.0, "max_interval": 50.0},
        {"base": 0.0},
        {"tau": 0.0},
        {"sensitivity": -1.0},
        {"closed_factor": 0.5},
    ],
)
def test_invalid_settings_are_refused(settings: dict[str, float]) -> None:
    """Settings that make no sense raise ValueError."""
    with pytest.raises(ValueError):
        ScheduleSettings(**settings)
