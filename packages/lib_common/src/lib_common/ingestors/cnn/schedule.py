"""When to poll CNN Fear & Greed next (sans-I/O: scores, times and market state in, a delay out).

The index moves a little during US trading hours and hardly at all outside them, so the
delay follows how much the score has been moving and whether the market is open:

- movement `m` (score points per minute) is a time-weighted exponential average of
  `|Δscore| / Δminutes` between successive observations:
  `m ← m + α·(rate − m)` with `α = 1 − exp(−Δt / tau)` (a long gap weighs more);
- market open: `delay = clamp(base / (1 + k·m), min_interval, max_interval)`;
- market closed: `delay = clamp(closed_factor · base / (1 + k·m), min_interval, max_interval)`;
- after a failed fetch `n` in a row: `delay = min(max_interval, min_interval · 2^(n−1))`,
  but at least the server's Retry-After when it sent one.

Times are monotonic seconds passed in by the caller (no clock, no sleep here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = ["FearGreedSchedule", "ScheduleSettings"]

_MAX_DOUBLINGS: Final = 62


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """The knobs of `FearGreedSchedule` (seconds, points per minute, plain factors)."""

    min_interval: float = 60.0
    max_interval: float = 1800.0
    base: float = 300.0  # the open-market delay when the score stands still
    sensitivity: float = 10.0  # k: m = 0.1 pt/min halves the delay, 0.4 pt/min fifths it
    tau: float = 600.0  # movement average time constant: 10 min
    closed_factor: float = 4.0

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        if self.base <= 0 or self.tau <= 0:
            raise ValueError("base and tau must be > 0")
        if self.sensitivity < 0 or self.closed_factor < 1:
            raise ValueError("need sensitivity >= 0 and closed_factor >= 1")


class FearGreedSchedule:
    """Tracks how fast the score moves and turns it into the next poll delay."""

    def __init__(self, settings: ScheduleSettings | None = None) -> None:
        self.settings = settings or ScheduleSettings()
        self.movement = 0.0  # EWMA of |Δscore| per minute
        self.failures = 0
        self._last: tuple[float, float] | None = None  # (now, score)

    def observe(self, score: float, now: float) -> None:
        """A successful fetch at monotonic `now` returned `score`."""
        self.failures = 0
        if self._last is not None:
            then, previous = self._last
            elapsed = now - then
            if elapsed <= 0:
                return  # same instant (or a clock hiccup): keep the first observation
            rate = abs(score - previous) / (elapsed / 60.0)
            alpha = 1.0 - math.exp(-elapsed / self.settings.tau)
            self.movement += alpha * (rate - self.movement)
        self._last = (now, score)

    def next_delay(self, market_open: bool) -> float:
        """Seconds until the next poll after a successful one."""
        s = self.settings
        delay = s.base / (1.0 + s.sensitivity * self.movement)
        if not market_open:
            delay *= s.closed_factor
        return min(s.max_interval, max(s.min_interval, delay))

    def on_error(self, retry_after: float | None = None) -> float:
        """A fetch failed: count it and return the backoff delay in seconds."""
        s = self.settings
        self.failures += 1
        doublings = min(self.failures - 1, _MAX_DOUBLINGS)
        backoff = min(s.max_interval, s.min_interval * 2.0**doublings)
        return max(backoff, retry_after or 0.0)
