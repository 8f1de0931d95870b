"""The simulator's clock: epoch seconds from an injectable callable.

Quote times, REST timestamps and fault durations all read this clock, so a test can hold
time still or jump it forward (`ManualClock`) instead of waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "ManualClock", "wall_clock"]

Clock = Callable[[], float]


def wall_clock() -> float:
    """The real time, in seconds since the Unix epoch."""
    return time.time()


class ManualClock:
    """A clock that moves only when told to; call it like `time.time`."""

    def __init__(self, start: float = 1_761_840_000.0) -> None:  # 2025-10-30 16:00 UTC
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        self._now += seconds

    def set(self, now: float) -> None:
        """Jump to `now` (epoch seconds)."""
        self._now = now
