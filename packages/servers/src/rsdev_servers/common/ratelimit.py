"""Per-client limits on what a client may send: an operation token bucket and an error budget.

Sans-I/O: both take `now` (monotonic seconds) and answer yes/no, so tests drive them
with plain numbers.

- `TokenBucket(rate, burst)`: each client operation takes one token; tokens refill at
  `rate` per second up to `burst`. An operation without a token is refused
  (`rate_limited`) and does nothing.
- `ErrorBudget(limit, window)`: every error answered to a client is recorded; more than
  `limit` within `window` seconds marks the client abusive, and the gateway closes it
  (1008). A client that errs now and then is never closed.
"""

from __future__ import annotations

from collections import deque

__all__ = ["ErrorBudget", "TokenBucket"]


class TokenBucket:
    """`burst` operations at once, then `rate` per second."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if available; False (and nothing spent) otherwise."""
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def available(self, now: float) -> float:
        """Tokens available at `now` (without spending)."""
        elapsed = max(0.0, now - self._last)
        return min(self.burst, self._tokens + elapsed * self.rate)


class ErrorBudget:
    """At most `limit` errors within any `window` seconds."""

    __slots__ = ("_times", "limit", "window")

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def record(self, now: float) -> bool:
        """Count one error at `now`; True when the budget is now exceeded."""
        times = self._times
        times.append(now)
        horizon = now - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return len(times) > self.limit

    def recent(self, now: float) -> int:
        """Errors within the window ending at `now`."""
        horizon = now - self.window
        return sum(1 for t in self._times if t > horizon)
