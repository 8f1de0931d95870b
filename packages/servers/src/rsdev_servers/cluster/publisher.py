"""The leader's side of the bus: records in from the upstream manager, batches out to Redis.

The manager's callbacks (`add_quote`, `add_indicator`, `set_status`) only append: a quote
is encoded once into its record and queued under its shard. `run` wakes once per event-loop
iteration with work, and sends everything queued in **one** fenced script call (see
`scripts.PUBLISH`): one SPUBLISH per shard with records, the newest record of each symbol
into the last-value hash (as `<ts_bus> <record>`), and the status if it changed. While
that call is in flight new records queue up, so under load more records share a call
(adaptive batching, as the dispatcher does for client writes); at idle a record leaves on
the next iteration.

Bounded: past `max_pending` queued records new ones are dropped and counted (Redis is
not keeping up; the lease will end the term if it stops answering). Before each call the
lease must still be valid; a call that Redis fences off (-1) revokes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from lib_common.core import wall_clock_us
from lib_common.core.clock import Clock
from lib_common.core.upstream_manager import FEAR_GREED, UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.cluster.codec import (
    encode_batch,
    encode_control,
    encode_status,
    indicator_record,
    quote_record,
)
from rsdev_servers.cluster.lease import LeadershipLost, Lease
from rsdev_servers.cluster.naming import ClusterKeys

__all__ = ["BusPublisher", "PublishCall", "PublishCounters"]

PublishCall = Callable[
    [str, list[tuple[str, bytes]], list[tuple[str, bytes]], bytes | None], Awaitable[int]
]
"""`ClusterScripts.publish`: (lock value, messages, last records, status) → count or -1."""


@dataclass(slots=True)
class PublishCounters:
    """What the leader published, across its terms."""

    records: int = 0  # records published
    calls: int = 0  # publish script calls
    messages: int = 0  # bus messages (one per shard per call)
    dropped: int = 0  # records dropped: queue full, or the term ended first


class BusPublisher:
    """Queue records per shard; publish them in fenced batches (see the module docstring)."""

    def __init__(
        self,
        keys: ClusterKeys,
        *,
        max_pending: int = 50_000,
        max_batch: int = 2_000,
        clock_us: Callable[[], int] = wall_clock_us,
        counters: PublishCounters | None = None,
    ) -> None:
        self._keys = keys
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._clock_us = clock_us
        self._pending: list[tuple[str, bytes]] = []  # (symbol, record), arrival order
        self._status: UpstreamStatus | None = None
        self._wake = anyio.Event()
        self.counters = counters if counters is not None else PublishCounters()

    # -- the upstream manager's callbacks (synchronous, never block) ----------------------

    def add_quote(self, quote: Quote) -> None:
        """Queue a quote (encoded once, here)."""
        self._add(quote.symbol, quote_record(quote))

    def add_indicator(self, value: FearGreed) -> None:
        """Queue a Fear & Greed value."""
        self._add(FEAR_GREED, indicator_record(FEAR_GREED, value))

    def set_status(self, status: UpstreamStatus) -> None:
        """Publish this status with the next call (only the latest one is kept)."""
        self._status = status
        self._wake.set()

    def _add(self, symbol: str, record: bytes) -> None:
        if len(self._pending) >= self._max_pending:
            self.counters.dropped += 1
            return
        self._pending.append((symbol, record))
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- the task -------------------------------------------------------------------------

    async def run(self, publish: PublishCall, lease: Lease, clock: Clock) -> None:
        """Publish until cancelled; raises `LeadershipLost` when the term is over."""
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            while self._pending or self._status is not None:
                if not lease.valid(clock.monotonic()):
                    self.counters.dropped += len(self._pending)
                    self._pending.clear()
                    raise LeadershipLost("the lease ran out before the bus could publish")
                await self._publish_some(publish, lease)

    async def _publish_some(self, publish: PublishCall, lease: Lease) -> None:
        batch = self._pending[: self._max_batch]
        del self._pending[: len(batch)]
        status, self._status = self._status, None
        ts_bus = self._clock_us()
        by_shard: dict[int, list[bytes]] = {}
        last: dict[str, bytes] = {}
        shard_of = self._keys.shard_of
        for symbol, record in batch:
            by_shard.setdefault(shard_of(symbol), []).append(record)
            last[symbol] = record
        stamp = b"%d " % ts_bus
        messages = [
            (self._keys.bus(shard), encode_batch(lease.token, ts_bus, records))
            for shard, records in by_shard.items()
        ]
        status_message = None
        if status is not None:
            status_message = encode_control("S", token=lease.token, body=encode_status(status))
        latest = [(symbol, stamp + record) for symbol, record in last.items()]
        result = await publish(lease.value, messages, latest, status_message)
        if result < 0:
            lease.revoke()
            self.counters.dropped += len(batch)
            raise LeadershipLost("Redis refused the publish: the lock is not ours")
        counters = self.counters
        counters.calls += 1
        counters.messages += len(messages)
        counters.records += len(batch)
