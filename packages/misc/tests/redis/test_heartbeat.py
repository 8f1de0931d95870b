"""The heartbeat key's TTL rule and JSON payload."""

from __future__ import annotations

import json

import pytest

from rsdev_misc.monitor_redis import RedisHeartbeat, ttl_for_interval


def test_ttl_is_three_intervals_at_least_ten_seconds() -> None:
    """3× the interval, rounded up to whole seconds, never below 10 s."""
    assert ttl_for_interval(0.2) == 10
    assert ttl_for_interval(30) == 90
    assert ttl_for_interval(4.1) == 13


def test_payload() -> None:
    """The value is compact JSON with ts (Unix seconds), host, pid and latency_ms."""
    beat = RedisHeartbeat(key="hb:monitor-redis:h1", ttl_s=10, host="h1", pid=42)
    payload = json.loads(beat.payload(1_700_000_000.12345, 0.5))
    assert payload == {"ts": 1_700_000_000.123, "host": "h1", "pid": 42, "latency_ms": 0.5}


def test_bad_heartbeats() -> None:
    """An empty key or a TTL below one second is refused."""
    with pytest.raises(ValueError):
        RedisHeartbeat(key="", ttl_s=10, host="h", pid=1)
    with pytest.raises(ValueError):
        RedisHeartbeat(key="k", ttl_s=0, host="h", pid=1)
