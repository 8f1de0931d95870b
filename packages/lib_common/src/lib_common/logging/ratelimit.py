"""A token bucket for spoken alerts: sans-I/O, the caller passes the time."""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """Allow ``burst`` events at once, then one more every ``interval`` seconds.

    With ``burst=1`` this is a plain minimum interval between events.
    """

    def __init__(self, interval: float, burst: int = 1) -> None:
        if interval < 0 or burst < 1:
            raise ValueError("interval must be >= 0 and burst >= 1")
        self._interval = interval
        self._burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def allow(self, now: float) -> bool:
        """Take a token at monotonic time ``now`` if one is available."""
        if self._last is not None and self._interval > 0:
            refill = (now - self._last) / self._interval
            self._tokens = min(float(self._burst), self._tokens + max(0.0, refill))
        elif self._interval == 0:
            self._tokens = float(self._burst)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
