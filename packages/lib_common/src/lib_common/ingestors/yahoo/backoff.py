"""Reconnect delays: capped exponential backoff with full jitter (sans-I/O).

Attempt n (1-based) waits `rng() * min(cap, base * 2**(n-1))` seconds — AWS's "full
jitter", which spreads many reconnecting clients out instead of having them retry in step —
but never less than `floor`, so an upstream that accepts and at once closes (even with a
normal 1000) can never be redialled in a tight loop. The attempt count goes back to zero
only when a connection proved itself: it stayed open `healthy_after` seconds and carried
at least one frame. No clock and no sleep here: the caller passes the uptime and sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "BackoffPolicy"]

_MAX_DOUBLINGS = 62  # 2**62 * any sane base is far past any cap; avoids float overflow


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """The shape of the reconnect delays, in seconds."""

    base: float = 0.5
    cap: float = 30.0
    floor: float = 0.05
    healthy_after: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise ValueError("backoff needs 0 < base <= cap")
        if not 0 <= self.floor <= self.cap:
            raise ValueError("backoff needs 0 <= floor <= cap")
        if self.healthy_after < 0:
            raise ValueError("healthy_after must be >= 0")

    def ceiling(self, attempt: int) -> float:
        """The largest delay of 1-based `attempt`: `min(cap, base * 2**(attempt-1))`."""
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        return min(self.cap, self.base * 2.0**doublings)

    def delay(self, attempt: int, u: float) -> float:
        """The delay of `attempt` for a uniform draw `u` in [0, 1)."""
        return max(self.floor, u * self.ceiling(attempt))


class Backoff:
    """The attempt counter of one connection slot; `rng` draws uniformly from [0, 1)."""

    def __init__(self, policy: BackoffPolicy, rng: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self._rng = rng
        self.attempt = 0

    def next_delay(self) -> float:
        """Count one more failed attempt and return how long to wait before the next one."""
        self.attempt += 1
        return self.policy.delay(self.attempt, self._rng())

    def connection_ended(self, uptime: float, frames: int) -> None:
        """Forget past failures if the connection that just ended was healthy."""
        if frames > 0 and uptime >= self.policy.healthy_after:
            self.attempt = 0
