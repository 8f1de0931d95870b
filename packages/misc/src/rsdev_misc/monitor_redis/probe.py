"""`RedisProbe`: connect (AUTH, HELLO), PING, optionally write the heartbeat key.

redis-py's defaults suit an application, not a health check: 10 client retries with
backoff and 5 s socket timeouts make a server that accepts and never answers take a minute
to fail. Here retries are off (``Retry(NoBackoff(), 0)``), the socket timeouts are the
probe's timeout, and the whole probe runs under its own deadline; the monitor loop does the
debouncing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from rsdev_misc.monitor import ProbeResult, redact
from rsdev_misc.monitor_redis.errors import classify_error
from rsdev_misc.monitor_redis.heartbeat import RedisHeartbeat
from rsdev_misc.monitor_redis.target import RedisTarget

__all__ = ["RedisProbe"]

_CLOSE_GRACE_S = 1.0  # closing a TLS socket may wait for the peer; never for long


class RedisProbe:
    """One PING per probe, on a fresh connection unless `keep_connection`."""

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
        self._target = target
        self._keep = keep_connection
        self._heartbeat = heartbeat
        self._client_name = client_name
        self._timer = timer
        self._wall_clock = wall_clock
        self._client: Redis | None = None

    @property
    def target(self) -> str:
        return self._target.description

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109 - the Probe protocol
        """Connect (or reuse), PING, heartbeat, close; never raises for service failures."""
        timings: dict[str, float | str] = {}
        phase = "connecting"
        try:
            with anyio.fail_after(timeout):
                client, phase = await self._connection(timeout, timings), "sending PING"
                try:
                    started = self._timer()
                    await client.ping()
                    ping_ms = timings["ping_ms"] = _ms(self._timer() - started)
                    if self._heartbeat is not None:
                        phase = "writing the heartbeat"
                        await self._beat(client, self._heartbeat, ping_ms, timings)
                finally:
                    if not self._keep:
                        await _close(client)
        except Exception as exc:
            await self._drop()
            return self._failure(exc, phase, timeout, timings)
        return ProbeResult(ok=True, latency_ms=float(timings["ping_ms"]), details=timings)

    async def aclose(self) -> None:
        await self._drop()

    async def _connection(self, socket_timeout: float, timings: dict[str, float | str]) -> Redis:
        if self._client is not None:
            timings["connection"] = "kept"
            return self._client
        client = Redis.from_url(
            self._target.url,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            single_connection_client=True,  # so initialize() is the connect we time
            client_name=self._client_name,
            **self._target.options,
        )
        started = self._timer()
        try:
            await client.initialize()
        except BaseException:
            await _close(client)
            raise
        timings["connect_ms"] = _ms(self._timer() - started)
        timings["connection"] = "new"
        if self._keep:
            self._client = client
        return client

    async def _beat(
        self,
        client: Redis,
        heartbeat: RedisHeartbeat,
        ping_ms: float,
        timings: dict[str, float | str],
    ) -> None:
        started = self._timer()
        value = heartbeat.payload(self._wall_clock(), ping_ms)
        await client.set(heartbeat.key, value, ex=heartbeat.ttl_s)
        timings["heartbeat_ms"] = _ms(self._timer() - started)

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _close(client)

    def _failure(
        self, exc: Exception, phase: str, timeout: float, timings: dict[str, float | str]
    ) -> ProbeResult:
        kind = classify_error(exc)
        if isinstance(exc, TimeoutError):
            message = f"no answer within {timeout:g} s while {phase}"
        else:
            text = " ".join(str(exc).split()) or type(exc).__name__
            message = f"{phase}: {text}"
        return ProbeResult(
            ok=False, error=redact(message, self._target.secrets), failure=kind, details=timings
        )


async def _close(client: Redis) -> None:
    # Shielded so a probe cut short by its deadline still releases the socket, but bounded.
    with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_GRACE_S):
        await client.aclose()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
