"""The optional heartbeat key: ``SET key '{"ts":…,"host":…,"pid":…,"latency_ms":…}' EX ttl``.

A watcher alarms when the key is missing (expired: the monitor or Redis is gone) or stale.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

__all__ = ["MIN_TTL_S", "RedisHeartbeat", "ttl_for_interval"]

MIN_TTL_S = 10
TTL_INTERVALS = 3  # the key survives two missed beats, not three


def ttl_for_interval(interval_s: float) -> int:
    """The key's lifetime: 3 probe intervals, at least 10 s, whole seconds."""
    return max(MIN_TTL_S, math.ceil(TTL_INTERVALS * interval_s))


@dataclass(frozen=True, slots=True)
class RedisHeartbeat:
    """Which key to write, for how long, and who is writing it."""

    key: str
    ttl_s: int
    host: str
    pid: int

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("the heartbeat key must not be empty")
        if self.ttl_s < 1:
            raise ValueError("the heartbeat TTL must be at least 1 s")

    def payload(self, now: float, latency_ms: float) -> str:
        """The JSON value; `ts` is Unix seconds (what a watcher compares with its clock)."""
        return json.dumps(
            {"ts": round(now, 3), "host": self.host, "pid": self.pid, "latency_ms": latency_ms},
            separators=(",", ":"),
        )
