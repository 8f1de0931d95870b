"""When the REST poller may send its next round (sans-I/O: outcomes and `now` in, a time out).

Times are monotonic seconds passed in by the caller; nothing here sleeps or reads a clock.
The poller reports each round's outcome once and waits until `next_poll_at()`; within a
round it stops sending as soon as a 429 or an outage page arrives (`hold` then says how
long nothing may be sent).

Formulas (documented in docs/upstreams.md, "REST poller"):

- effective interval `I = min(max_interval, interval × factor)`, `factor ≥ 1`;
- success: `factor ← 1 + (factor − 1) / 2` (the extra slowdown halves each good round;
  below 1 % it snaps to 1); failures reset; next poll at `now + I`;
- 429: `factor ← min(max_factor, factor × slowdown)`; next poll at
  `now + max(retry_after, I)` where `now` is when the 429 arrived (no Retry-After: `I`);
- outage (down page, 5xx or transport errors on a whole round): `failures += 1`, next poll
  at `now + max(I, min(backoff_cap, backoff_base × 2^(failures−1)), retry_after)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CadenceSettings", "PollCadence"]

_SNAP: Final = 0.01  # an extra factor below this is rounding noise: back to the base interval
_MAX_DOUBLINGS: Final = 62


@dataclass(frozen=True, slots=True)
class CadenceSettings:
    """The knobs of `PollCadence`, in seconds (and plain factors)."""

    interval: float = 10.0
    max_interval: float = 300.0
    slowdown: float = 2.0
    backoff_base: float = 5.0
    backoff_cap: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.interval <= self.max_interval:
            raise ValueError("need 0 < interval <= max_interval")
        if self.slowdown < 1:
            raise ValueError("slowdown must be >= 1")
        if not 0 < self.backoff_base <= self.backoff_cap:
            raise ValueError("need 0 < backoff_base <= backoff_cap")

    @property
    def max_factor(self) -> float:
        """The largest slowdown factor worth keeping: beyond it the interval is capped."""
        return self.max_interval / self.interval


class PollCadence:
    """The REST poller's rhythm: base interval, 429 slowdown, outage backoff."""

    def __init__(self, settings: CadenceSettings | None = None) -> None:
        self.settings = settings or CadenceSettings()
        self.factor = 1.0
        self.failures = 0
        self._next_at = float("-inf")  # the first round may start at once
        self._hold_until = float("-inf")

    @property
    def interval(self) -> float:
        """The effective interval now: base × slowdown factor, capped."""
        s = self.settings
        return min(s.max_interval, s.interval * self.factor)

    def next_poll_at(self) -> float:
        """The earliest monotonic time the next round may start."""
        return max(self._next_at, self._hold_until)

    def may_send(self, now: float) -> bool:
        """False while a Retry-After or an outage backoff forbids sending anything."""
        return now >= self._hold_until

    def hold(self, now: float, seconds: float) -> None:
        """Send nothing before `now + seconds` (a 429 or outage seen mid-round)."""
        self._hold_until = max(self._hold_until, now + max(0.0, seconds))

    def on_success(self, now: float) -> None:
        """A round completed without rate limiting or outage."""
        extra = (self.factor - 1.0) / 2.0
        self.factor = 1.0 + (extra if extra >= _SNAP else 0.0)
        self.failures = 0
        self._next_at = now + self.interval

    def on_rate_limited(self, now: float, retry_after: float | None) -> None:
        """A 429 arrived at `now`: wait its Retry-After and slow the cadence down."""
        s = self.settings
        self.factor = min(s.max_factor, self.factor * s.slowdown)
        wait = max(retry_after or 0.0, self.interval)
        if retry_after is not None:
            self.hold(now, retry_after)
        self._next_at = now + wait

    def on_outage(self, now: float, retry_after: float | None = None) -> None:
        """The upstream looked down this round: back off exponentially."""
        s = self.settings
        self.failures += 1
        backoff = min(s.backoff_cap, s.backoff_base * 2.0 ** min(self.failures - 1, _MAX_DOUBLINGS))
        wait = max(self.interval, backoff, retry_after or 0.0)
        self.hold(now, wait)
        self._next_at = now + wait
