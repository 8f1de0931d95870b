"""Leadership: campaign for the lock, hold it, and while it is held run the upstream.

`Leadership.run` (one per Redis session) loops:

1. **campaign** — every `retry` seconds (at once when the leader announces a release) run
   the `acquire` script. Losing tells who leads and with which token (the followers' token
   gate follows the lock). Winning gives a `Lease` with a token higher than any before.
2. **term** — announce `L <token> <node>`, then in one task group: renew the lease every
   ttl/3 (each renew bounded by the lease deadline), and lead: build a fresh upstream
   manager whose clients are the *nodes*, seed it with every live node's interest, run
   it, publish what it emits (`BusPublisher`), and re-apply interest on each `N`
   notification and every `reconcile` seconds (nodes that left are disconnected, so their
   symbols linger). The term ends — the task group is cancelled and the manager closes the
   upstream connections — as soon as a renew fails, the lease deadline passes, or Redis
   fences off a publish.

A Redis error ends the whole session (the caller reconnects); the term goes with it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import anyio
from anyio.abc import TaskStatus
from loguru import logger
from redis.asyncio import Redis

from lib_common.core.clock import Clock
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.cluster.codec import as_text, encode_control
from rsdev_servers.cluster.interest import InterestTable, NodeManager
from rsdev_servers.cluster.lease import LeadershipLost, Lease, TokenGate, parse_lock_value
from rsdev_servers.cluster.publisher import BusPublisher, PublishCounters
from rsdev_servers.cluster.scripts import ClusterScripts
from rsdev_servers.cluster.settings import ClusterSettings
from rsdev_servers.cluster.timing import TIMED_OUT, Waker, within

__all__ = ["HealthView", "LeaderManager", "LeaderManagerFactory", "Leadership", "Role"]


class Role(enum.Enum):
    """A node's part in the cluster."""

    LEADER = "leader"  # holds the lock: runs the upstream and publishes
    FOLLOWER = "follower"  # connected to Redis, another node leads (or nobody yet)
    DISCONNECTED = "disconnected"  # no Redis session: serving from what it had


class HealthView(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


class UpstreamSymbols(Protocol):
    def upstream_symbols(self) -> frozenset[str]: ...


class LeaderManager(NodeManager, Protocol):
    """The upstream manager as the leader runs it (`UpstreamManager[str]` is one)."""

    @property
    def registry(self) -> UpstreamSymbols: ...

    def health(self) -> HealthView: ...

    async def run(self, *, task_status: TaskStatus[None] = ...) -> None: ...


class LeaderManagerFactory(Protocol):
    """Builds a fresh upstream manager for each term, wired to the bus publisher."""

    def __call__(
        self,
        *,
        on_quote: Callable[[Quote], None],
        on_status: Callable[[UpstreamStatus], None],
        on_indicator: Callable[[FearGreed], None],
    ) -> LeaderManager: ...


class Leadership:
    """This node's campaign and, while it leads, its term (see the module docstring)."""

    def __init__(
        self,
        settings: ClusterSettings,
        gate: TokenGate,
        manager_factory: LeaderManagerFactory,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.keys = settings.keys
        self.node_id = settings.node_id
        self.gate = gate
        self._factory = manager_factory
        self._clock = clock
        self.lease: Lease | None = None
        self._last_lease: Lease | None = None  # released on shutdown
        self._standby: tuple[BusPublisher, LeaderManager] | None = None
        self.manager: LeaderManager | None = None
        self.publisher: BusPublisher | None = None
        self.leader: str | None = None  # who leads, as far as this node knows
        self._campaign = Waker(clock)
        self._reconcile = Waker(clock)
        self._dirty: set[str] = set()
        self.terms = 0
        self.step_downs: dict[str, int] = {}
        self.table = InterestTable()
        self.published = PublishCounters()

    @property
    def leading(self) -> bool:
        return self.manager is not None

    # -- what the control channel says ------------------------------------------------

    def announced(self, token: int, node: str) -> None:
        """`L`: `node` won the election with `token`."""
        self.gate.raise_to(token)
        if node != self.leader:
            self.leader = node
            if node != self.node_id:
                logger.info("cluster: {} leads (token {})", node, token)

    def released(self, node: str) -> None:
        """`R`: the leader let go of the lock: campaign now rather than at the next retry."""
        if node != self.node_id:
            self.leader = None
            self._campaign.wake()

    def interest_changed(self, node: str) -> None:
        """`N`: re-read that node's interest (when leading)."""
        if self.manager is not None:
            self._dirty.add(node)
            self._reconcile.wake()

    # -- the session's task -------------------------------------------------------------

    async def run(self, redis: Redis, scripts: ClusterScripts) -> None:
        """Campaign, lead, step down, campaign again — until cancelled or Redis fails."""
        while True:
            lease = await self._campaign_until_elected(scripts)
            try:
                await self._term(lease, redis, scripts)
            except* LeadershipLost as group:
                reason = str(_first(group))
                self.step_downs[reason] = self.step_downs.get(reason, 0) + 1
                logger.warning("cluster: stepped down (token {}): {}", lease.token, reason)
            finally:
                self.lease = None
                self.manager = None
                self.publisher = None
                if self.leader == self.node_id:
                    self.leader = None

    async def release(self, scripts: ClusterScripts, redis: Redis) -> None:
        """Give the lock back now (shutdown), so another node takes over at once."""
        lease = self._last_lease
        if lease is None or lease.revoked:
            return
        if await scripts.release(lease.value):
            message = encode_control("R", token=lease.token, node=self.node_id)
            await redis.spublish(self.keys.control, message)
            logger.info("cluster: released the leadership (token {})", lease.token)

    def _prepare(self) -> tuple[BusPublisher, LeaderManager]:
        """The next term's publisher and manager, built while campaigning: building them
        (HTTP clients, TLS contexts) can hold the event loop for a while, which must not
        eat into a fresh lease."""
        if self._standby is None:
            settings = self.settings
            publisher = BusPublisher(
                self.keys,
                max_pending=settings.max_pending,
                max_batch=settings.max_batch,
                counters=self.published,
            )
            manager = self._factory(
                on_quote=publisher.add_quote,
                on_status=publisher.set_status,
                on_indicator=publisher.add_indicator,
            )
            self._standby = (publisher, manager)
        return self._standby

    async def _campaign_until_elected(self, scripts: ClusterScripts) -> Lease:
        settings = self.settings
        self._prepare()
        while True:
            sent = self._clock.monotonic()
            won, value = await scripts.acquire(self.node_id, settings.ttl_ms, self.gate.current)
            parsed = parse_lock_value(value)
            if parsed is None:  # pragma: no cover - only our scripts write the lock
                raise LeadershipLost(f"the lock holds {value!r}, not a lock value")
            token, holder = parsed
            if won:
                return Lease(token, self.node_id, settings.ttl, sent)
            if holder == self.node_id and await scripts.renew(value.decode(), settings.ttl_ms):
                # Our own lock from a Redis session that just broke: take it up again.
                return Lease(token, self.node_id, settings.ttl, sent)
            self.gate.observe_lock(token)
            if holder != self.leader:
                self.leader = holder
                logger.info("cluster: {} leads (token {})", holder, token)
            await self._campaign.sleep(settings.retry)

    async def _term(self, lease: Lease, redis: Redis, scripts: ClusterScripts) -> None:
        self.lease = self._last_lease = lease
        self.leader = self.node_id
        self.gate.observe_lock(lease.token)
        self.terms += 1
        logger.info("cluster: this node leads now (token {})", lease.token)
        await redis.spublish(
            self.keys.control, encode_control("L", token=lease.token, node=self.node_id)
        )
        async with anyio.create_task_group() as term:
            term.start_soon(self._lead, lease, redis, scripts)
            await self._hold(lease, scripts)

    async def _hold(self, lease: Lease, scripts: ClusterScripts) -> None:
        """Renew until the lease is lost; raises `LeadershipLost` (never returns)."""
        clock, ttl_ms = self._clock, self.settings.ttl_ms
        while True:
            await clock.sleep(max(0.0, lease.next_renew - clock.monotonic()))
            sent = clock.monotonic()
            if not lease.valid(sent):
                raise LeadershipLost("the lease ran out (this process was paused or starved)")
            renewed = await within(
                clock, lease.deadline - sent, lambda: scripts.renew(lease.value, ttl_ms)
            )
            if renewed is TIMED_OUT:
                raise LeadershipLost("Redis did not confirm the renew before the lease ran out")
            if not renewed:
                lease.revoke()
                raise LeadershipLost("the lock is no longer ours")
            lease.renewed(sent)

    async def _lead(self, lease: Lease, redis: Redis, scripts: ClusterScripts) -> None:
        publisher, manager = self._prepare()
        self._standby = None  # a manager runs once: the next term builds another
        self.table = table = InterestTable()
        self._dirty.clear()
        await self._reconcile_all(manager, table, redis, scripts)
        async with anyio.create_task_group() as tg:
            await tg.start(manager.run)
            self.manager, self.publisher = manager, publisher
            tg.start_soon(publisher.run, scripts.publish, lease, self._clock)
            tg.start_soon(self._reconcile_loop, manager, table, redis, scripts)

    async def _reconcile_loop(
        self, manager: LeaderManager, table: InterestTable, redis: Redis, scripts: ClusterScripts
    ) -> None:
        clock = self._clock
        full_at = clock.monotonic() + self.settings.reconcile
        while True:
            await self._reconcile.sleep(full_at - clock.monotonic())
            if clock.monotonic() >= full_at:
                self._dirty.clear()
                await self._reconcile_all(manager, table, redis, scripts)
                full_at = clock.monotonic() + self.settings.reconcile
            elif self._dirty:
                nodes = sorted(self._dirty)
                self._dirty.clear()
                await self._apply(manager, table, redis, nodes)

    async def _reconcile_all(
        self, manager: LeaderManager, table: InterestTable, redis: Redis, scripts: ClusterScripts
    ) -> None:
        members = await scripts.members()
        await self._apply(manager, table, redis, members)
        gone = table.retain(manager, set(members))
        for node in gone:
            logger.info("cluster: node {} left; its symbols linger upstream", node)
        followed = manager.registry.upstream_symbols()
        stale = [f for f in await redis.hkeys(self.keys.last) if as_text(f) not in followed]
        if stale:
            await redis.hdel(self.keys.last, *stale)

    async def _apply(
        self, manager: LeaderManager, table: InterestTable, redis: Redis, nodes: Iterable[str]
    ) -> None:
        nodes = list(nodes)
        if not nodes:
            return
        async with redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.smembers(self.keys.interest(node))
            results = await pipe.execute()
        for node, members in zip(nodes, results, strict=True):
            change = table.apply(manager, node, {as_text(m) for m in members})
            if change.rejected:
                logger.warning(
                    "cluster: {} symbols of node {} refused upstream: {}",
                    len(change.rejected),
                    node,
                    change.rejected[0].message,
                )


def _first(group: BaseExceptionGroup[LeadershipLost]) -> LeadershipLost:
    """The first `LeadershipLost` in a (nested) exception group."""
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first
