"""A redis-py client for the cluster: our timeouts, no hidden retries, TLS by policy.

redis-py retries a failed command ten times by default (with 5 s socket timeouts); the
node has its own reconnect loop with backoff, so the client fails fast instead
(`Retry(NoBackoff(), 0)`) and every failure ends the Redis session (see `node`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from lib_common.tls import TLSPolicy
from rsdev_servers.cluster.settings import ClusterSettings

__all__ = ["Backoff", "connect_redis"]


def connect_redis(settings: ClusterSettings) -> Redis:
    """A client for `settings.url` (connects lazily, on the first command)."""
    extra: dict[str, Any] = {}
    if settings.url.startswith("rediss://"):
        extra = (settings.tls or TLSPolicy()).redis_kwargs()
    timeout = settings.command_timeout
    return Redis.from_url(
        settings.url,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        client_name=f"restream-{settings.node_id}"[:64],
        **extra,
    )


class Backoff:
    """Exponential delays (each between half and all of the cap), capped; `reset()` after a
    session that worked."""

    def __init__(self, initial: float, maximum: float, random: Callable[[], float]) -> None:
        self._initial = initial
        self._max = maximum
        self._random = random
        self._next = initial

    def delay(self) -> float:
        """The next delay (then the cap doubles)."""
        delay = self._next * (0.5 + self._random() / 2)
        self._next = min(self._max, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self._initial
