"""`RedisProbe`: connect (AUTH, HELLO), PING, optionally write the heartbeat key.

redis-py's defaults suit an application, not a health check: 10 client retries with
backoff and 5 s socket timeouts make a server that accepts and never answers take a minute
to fail. Here retries are off (``Retry(NoBackoff(), 0)``), the socket timeouts are the
probe's timeout, and the whole probe runs under its own deadline; the monitor loop does the
debouncing.

The phases, deadline, kept connection and failure mapping are `PhasedProbe`'s; this module
says only how Redis connects, PINGs, beats and words its errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from rsdev_misc.monitor import FailureKind, PhasedProbe
from rsdev_misc.monitor_redis.errors import classify_error
from rsdev_misc.monitor_redis.heartbeat import RedisHeartbeat
from rsdev_misc.monitor_redis.target import RedisTarget

__all__ = ["RedisProbe"]


class RedisProbe(PhasedProbe[RedisTarget, Redis, RedisHeartbeat]):
    """One PING per probe, on a fresh connection unless `keep_connection`."""

    call_phase = "sending PING"
    call_key = "ping_ms"
    close_grace_s = 1.0  # closing a TLS socket may wait for the peer; never for long

    def __init__(
        self,
        target: RedisTarget,
        *,
        keep_connection: bool = False,
        heartbeat: RedisHeartbeat | None = None,
        client_name: str | None = "rsdev-monitor-redis",
        timer: Callable[[], float] = time.perf_counter,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(target, keep_connection=keep_connection, heartbeat=heartbeat, timer=timer)
        self._client_name = client_name
        self._wall_clock = wall_clock

    async def _open(self, deadline_s: float, connect_timer: AbstractContextManager[None]) -> Redis:
        client = Redis.from_url(
            self._target.url,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=deadline_s,
            socket_connect_timeout=deadline_s,
            single_connection_client=True,  # so initialize() is the connect we time
            client_name=self._client_name,
            **self._target.options,
        )
        try:
            with connect_timer:
                await client.initialize()
        except BaseException:
            await self._release(client)
            raise
        return client

    async def _call(self, conn: Redis) -> None:
        await conn.ping()

    async def _beat(self, conn: Redis, heartbeat: RedisHeartbeat, call_ms: float) -> None:
        value = heartbeat.payload(self._wall_clock(), call_ms)
        await conn.set(heartbeat.key, value, ex=heartbeat.ttl_s)

    async def _close(self, conn: Redis) -> None:
        await conn.aclose()

    def _classify(self, exc: Exception) -> FailureKind:
        return classify_error(exc)

    def _describe(self, exc: Exception) -> str:
        return " ".join(str(exc).split()) or type(exc).__name__

    def _latency_ms(self, connect_ms: float | None, call_ms: float) -> float:
        # The PING round trip alone: connecting is reported apart, as connect_ms.
        return call_ms
