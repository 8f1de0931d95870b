"""The stall watchdog: silence while quotes are due is a stall; excused silence is not."""

from __future__ import annotations

import pytest

from lib_common.ingestors.yahoo.stream_watchdog import StallWatchdog


def test_silence_reaching_the_timeout_is_a_stall() -> None:
    """No activity for exactly `timeout` while quotes are due reports the silence."""
    watchdog = StallWatchdog(30.0, now=100.0)
    assert watchdog.deadline() == 130.0
    assert watchdog.check(129.9, expecting=True) is None
    assert watchdog.check(130.0, expecting=True) == 30.0


def test_activity_pushes_the_deadline() -> None:
    """Each frame restarts the silence."""
    watchdog = StallWatchdog(5.0, now=0.0)
    watchdog.activity(4.0)
    assert watchdog.deadline() == 9.0
    assert watchdog.check(8.0, expecting=True) is None
    assert watchdog.check(9.5, expecting=True) == 5.5


def test_closed_market_silence_is_excused_and_measuring_restarts() -> None:
    """With nothing due, silence is no stall, and after the open it counts from the check."""
    watchdog = StallWatchdog(5.0, now=0.0)
    assert watchdog.check(1_000.0, expecting=False) is None
    assert watchdog.deadline() == 1_005.0
    assert watchdog.check(1_004.0, expecting=True) is None  # market opened at ~1000
    assert watchdog.check(1_005.0, expecting=True) == 5.0


def test_timeout_must_be_positive() -> None:
    """A zero timeout is refused (the client turns the watchdog off instead)."""
    with pytest.raises(ValueError):
        StallWatchdog(0.0, now=0.0)
