"""`ClusterUpstream`: one restream node of a cluster, as its gateway sees the upstream.

It has the client-facing API of `UpstreamManager` (subscribe, unsubscribe, disconnect,
last values, status, health, run) so the gateway, its sessions and its dispatcher work
unchanged; behind it:

- a **local registry** of this node's clients (limits, linger, who gets which frame);
- a **Redis session** (reconnected with backoff whenever Redis fails), running together:
  - *membership*: a heartbeat every ttl/3 (`heartbeat` script) — a node that dies drops
    out after `ttl`;
  - *interest*: the symbols this node's clients hold (active, not lingering), mirrored
    into a Redis set with SADD/SREM and announced with `N <node>` so the leader re-reads
    it at once;
  - *the bus reader*: SSUBSCRIBE to the bus shards of every symbol the node follows, and
    the control channel; each quote record of the current term (token gate) goes to the
    gateway's `on_relayed_quote`, to be stamped and dispatched locally;
  - *leadership* (`leader.Leadership`): the election and, on the leader, the upstream.
- **snapshots for late joiners**: when the node starts following a symbol it has no value
  for, it fetches the leader's last record from Redis and sends it as a `snapshot`.

Every node, the leader included, gets its quotes from the bus: one path, one set of
timestamps (`ts_bus` on every relayed quote).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import anyio
from anyio.abc import TaskStatus
from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from lib_common.core import (
    RegistryChange,
    StreamState,
    SymbolRegistry,
    UpstreamMode,
    wall_clock_us,
)
from lib_common.core.calendar import US_MARKETS, MarketCalendar
from lib_common.core.clock import SYSTEM_CLOCK, Clock
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.cluster.codec import (
    BusFormatError,
    RelayedQuote,
    as_bytes,
    decode_batch,
    decode_control,
    decode_fear_greed,
    decode_status,
    encode_control,
    parse_quote_record,
)
from rsdev_servers.cluster.connection import Backoff, connect_redis
from rsdev_servers.cluster.interest import SetSync
from rsdev_servers.cluster.leader import LeaderManagerFactory, Leadership, Role
from rsdev_servers.cluster.lease import TokenGate
from rsdev_servers.cluster.scripts import ClusterScripts
from rsdev_servers.cluster.settings import ClusterSettings
from rsdev_servers.cluster.timing import Waker

__all__ = ["ClusterHealth", "ClusterStats", "ClusterUpstream", "GatewayCallbacks"]

_REDIS_ERRORS: Final = (RedisError, OSError)  # OSError covers TimeoutError and refused
_GOODBYE_TIMEOUT: Final = 1.0


class GatewayCallbacks(Protocol):
    """What the node calls on its gateway (restream's `UpstreamCallbacks` is one)."""

    def on_status(self, status: UpstreamStatus) -> None: ...

    def on_indicator(self, value: FearGreed) -> None: ...

    def on_relayed_quote(self, quote: RelayedQuote) -> None: ...


@dataclass(frozen=True, slots=True)
class ClusterHealth:
    """The `/health` view: the leader's upstream health, this node's symbols, `cluster`."""

    view: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.view


@dataclass(frozen=True, slots=True)
class ClusterStats:
    """Counters and gauges for `/metrics`."""

    role: Role
    token: int
    leader: str | None
    nodes: int
    redis_connected: bool
    redis_rtt: float | None
    sessions: int
    session_failures: int
    batches_in: int
    records_in: int
    records_filtered: int
    stale_rejected: int
    bad_messages: int
    snapshots_fetched: int
    bus_lag: float | None
    terms: int
    step_downs: dict[str, int]
    published_records: int
    published_calls: int
    publish_dropped: int
    publish_pending: int


class ClusterUpstream:
    """A cluster node's upstream side (see the module docstring)."""

    def __init__(
        self,
        settings: ClusterSettings,
        callbacks: GatewayCallbacks,
        leader_manager: LeaderManagerFactory,
        *,
        linger: float = 30.0,
        client_limit: int = 200,
        global_limit: int = 1000,
        calendar: MarketCalendar = US_MARKETS,
        clock: Clock = SYSTEM_CLOCK,
        jitter: Callable[[], float] = random.random,
        on_bus_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.keys = settings.keys
        self.node_id = settings.node_id
        self._callbacks = callbacks
        self._clock = clock
        self._jitter = jitter
        self.on_bus_lag = on_bus_lag
        self._registry = SymbolRegistry[int](
            linger=linger, client_limit=client_limit, global_limit=global_limit
        )
        self.gate = TokenGate()
        self.leadership = Leadership(settings, self.gate, leader_manager, clock)
        self._last: dict[str, RelayedQuote] = {}
        self._quotes: dict[str, Quote] = {}  # decoded on demand from `_last`
        self._indicators: dict[str, FearGreed] = {}
        self._fetched: set[str] = set()  # symbols whose last record was fetched this session
        self._status = UpstreamStatus(
            mode=UpstreamMode.IDLE,
            market=calendar.session_at(datetime.fromtimestamp(clock.time(), UTC)),
            reason="cluster: waiting for the leader",
            upstream=StreamState.STOPPED,
            at_us=wall_clock_us(),
        )
        self._leader_health: dict[str, Any] | None = None
        self._interest = SetSync[str]()
        self._rewrite_interest = True  # a new session replaces whatever Redis holds
        self._channels = SetSync[str]()
        self._confirmations: dict[bytes, anyio.Event] = {}
        self._sync = Waker(clock)
        self._linger = Waker(clock)
        self._control = self.keys.control.encode()
        self._connected = False
        self.url: str | None = None  # the node's public URL, shown to other nodes
        self._started_at = time.time()
        self._nodes = 0
        self._rtt: float | None = None
        self._lag: float | None = None
        self._sessions = 0
        self._session_failures = 0
        self._outage_logged = False
        self._batches = 0
        self._records = 0
        self._filtered = 0
        self._bad = 0
        self._snapshots = 0

    # -- the gateway's API (synchronous) ------------------------------------------------

    def subscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange:
        """As `UpstreamManager.subscribe`: the registry decides, Redis follows."""
        return self._changed(self._registry.subscribe(client, symbols, self._clock.monotonic()))

    def unsubscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange:
        return self._changed(self._registry.unsubscribe(client, symbols, self._clock.monotonic()))

    def disconnect(self, client: int) -> RegistryChange:
        return self._changed(self._registry.disconnect(client, self._clock.monotonic()))

    @property
    def registry(self) -> SymbolRegistry[int]:
        """This node's clients and symbols."""
        return self._registry

    @property
    def mode(self) -> UpstreamMode:
        """The leader's mode, as last relayed."""
        return self._status.mode

    def subscribers(self, symbol: str) -> Collection[int]:
        return self._registry.subscribers(symbol)

    def last_quote(self, symbol: str) -> Quote | None:
        quote = self._quotes.get(symbol)
        if quote is None:
            relayed = self._last.get(symbol)
            if relayed is None:
                return None
            try:
                quote = self._quotes[symbol] = relayed.to_quote()
            except (BusFormatError, ValueError):
                return None
        return quote

    def last_indicator(self, name: str) -> FearGreed | None:
        return self._indicators.get(name if name.startswith("@") else "@" + name)

    def status(self) -> UpstreamStatus:
        return self._status

    def health(self) -> ClusterHealth:
        """The leader's upstream health (its own, or as it last published it), this node's
        symbols, and the `cluster` section."""
        manager = self.leadership.manager
        if manager is not None:
            view = manager.health().as_dict()
        elif self._leader_health is not None:
            view = dict(self._leader_health)
        else:
            view = self._unknown_health()
        stats = self._registry.stats()
        view["symbols"] = {
            "active": stats.active_symbols,
            "lingering": stats.lingering_symbols,
            "clients": stats.clients,
        }
        view["cluster"] = self.cluster_view()
        return ClusterHealth(view)

    def cluster_view(self) -> dict[str, Any]:
        """The `cluster` section of `/health`."""
        s = self.stats()
        return {
            "node": self.node_id,
            "name": self.settings.name,
            "role": s.role.value,
            "leader": s.leader,
            "token": s.token,
            "nodes": s.nodes,
            "healthy": s.redis_connected and s.leader is not None,
            "redis": {
                "url": self.settings.redacted_url(),
                "connected": s.redis_connected,
                "rtt_ms": None if s.redis_rtt is None else round(s.redis_rtt * 1000, 3),
                "sessions": s.sessions,
                "failures": s.session_failures,
            },
            "bus": {
                "lag_ms": None if s.bus_lag is None else round(s.bus_lag * 1000, 3),
                "batches_in": s.batches_in,
                "records_in": s.records_in,
                "records_filtered": s.records_filtered,
                "stale_rejected": s.stale_rejected,
                "bad_messages": s.bad_messages,
                "snapshots_fetched": s.snapshots_fetched,
                "published_records": s.published_records,
                "publish_dropped": s.publish_dropped,
            },
            "terms": s.terms,
            "step_downs": s.step_downs,
        }

    def stats(self) -> ClusterStats:
        lead = self.leadership
        publisher = lead.publisher
        if lead.leading:
            role = Role.LEADER
        elif self._connected:
            role = Role.FOLLOWER
        else:
            role = Role.DISCONNECTED
        return ClusterStats(
            role=role,
            token=self.gate.current,
            leader=lead.leader,
            nodes=self._nodes,
            redis_connected=self._connected,
            redis_rtt=self._rtt,
            sessions=self._sessions,
            session_failures=self._session_failures,
            batches_in=self._batches,
            records_in=self._records,
            records_filtered=self._filtered,
            stale_rejected=self.gate.rejected,
            bad_messages=self._bad,
            snapshots_fetched=self._snapshots,
            bus_lag=self._lag,
            terms=lead.terms,
            step_downs=dict(lead.step_downs),
            published_records=lead.published.records,
            published_calls=lead.published.calls,
            publish_dropped=lead.published.dropped,
            publish_pending=publisher.pending if publisher else 0,
        )

    # -- running --------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled: Redis sessions (reconnecting), the local linger timer.

        Ready at once: clients are served from whatever the bus delivers, Redis or not.
        On cancellation the node steps down, releases the lock and leaves the membership.
        """
        logger.info(
            "cluster {}: node {} joining through {}",
            self.settings.name,
            self.node_id,
            self.settings.redacted_url(),
        )
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._run_linger, name="cluster linger")
                task_status.started()
                await self._run_sessions()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_GOODBYE_TIMEOUT):
                await self._goodbye()

    async def _run_sessions(self) -> None:
        backoff = Backoff(self.settings.backoff_initial, self.settings.backoff_max, self._jitter)
        while True:
            started = self._clock.monotonic()
            try:
                await self._session()
            except* _REDIS_ERRORS as group:
                self._session_failures += 1
                if not self._outage_logged:
                    self._outage_logged = True
                    logger.warning(
                        "cluster: Redis session lost ({}); reconnecting",
                        _describe(group),
                    )
            if self._clock.monotonic() - started > self.settings.ttl:
                backoff.reset()
            await self._clock.sleep(backoff.delay())

    async def _session(self) -> None:
        redis = connect_redis(self.settings)
        scripts = ClusterScripts(redis, self.keys)
        pubsub = redis.pubsub()
        try:
            started = self._clock.monotonic()
            await redis.ping()
            self._rtt = self._clock.monotonic() - started
            self._sessions += 1
            self._interest.reset()
            self._rewrite_interest = True
            self._channels.reset()
            self._fetched.clear()
            self._confirmations.clear()
            await pubsub.ssubscribe(self.keys.control)
            await self._heartbeat_once(redis, scripts)
            await self._load_status(redis)
            self._connected = True
            if self._outage_logged:
                logger.info("cluster: Redis session restored")
            self._outage_logged = False
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read, pubsub, name="cluster bus reader")
                tg.start_soon(self._heartbeat, redis, scripts, name="cluster heartbeat")
                tg.start_soon(self._sync_interest, redis, pubsub, name="cluster interest")
                tg.start_soon(self.leadership.run, redis, scripts, name="cluster leadership")
                self._sync.wake()
        finally:
            self._connected = False
            with anyio.CancelScope(shield=True):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await redis.aclose()

    async def _goodbye(self) -> None:
        """Shutdown: release the lock, leave the membership (best effort, bounded)."""
        redis = connect_redis(self.settings)
        try:
            scripts = ClusterScripts(redis, self.keys)
            await self.leadership.release(scripts, redis)
            async with redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self.keys.members, self.node_id)
                pipe.delete(self.keys.interest(self.node_id), self.keys.node(self.node_id))
                pipe.spublish(self.keys.control, encode_control("N", node=self.node_id))
                await pipe.execute()
        except _REDIS_ERRORS:
            pass
        finally:
            await redis.aclose()

    # -- membership and interest ----------------------------------------------------------

    async def _heartbeat(self, redis: Redis, scripts: ClusterScripts) -> None:
        while True:
            await self._clock.sleep(self.settings.heartbeat)
            await self._heartbeat_once(redis, scripts)

    async def _heartbeat_once(self, redis: Redis, scripts: ClusterScripts) -> None:
        started = self._clock.monotonic()
        self._nodes = await scripts.heartbeat(
            self.node_id, self.settings.ttl_ms, json.dumps(self._description())
        )
        self._rtt = self._clock.monotonic() - started
        manager = self.leadership.manager
        if manager is not None:
            health = json.dumps(manager.health().as_dict())
            await redis.set(self.keys.leader_health, health, px=self.settings.ttl_ms)
        else:
            raw = await redis.get(self.keys.leader_health)
            self._leader_health = json.loads(raw) if raw else None

    def _description(self) -> dict[str, Any]:
        stats = self._registry.stats()
        return {
            "node": self.node_id,
            "url": self.url,
            "role": self.stats().role.value,
            "clients": stats.clients,
            "symbols": stats.active_symbols,
            "started": round(self._started_at, 3),
        }

    def _changed(self, change: RegistryChange) -> RegistryChange:
        for symbol in change.upstream_unsubscribe:
            self._forget(symbol)
        if (
            change.upstream_subscribe
            or change.upstream_unsubscribe
            or change.linger_started
            or change.linger_cancelled
        ):
            self._sync.wake()
        if change.linger_started:
            self._linger.wake()
        return change

    def _forget(self, symbol: str) -> None:
        self._last.pop(symbol, None)
        self._quotes.pop(symbol, None)
        self._indicators.pop(symbol, None)
        self._fetched.discard(symbol)

    async def _run_linger(self) -> None:
        registry = self._registry
        while True:
            deadline = registry.next_deadline()
            wait = None if deadline is None else deadline - self._clock.monotonic()
            await self._linger.sleep(wait)
            expired = registry.expire(self._clock.monotonic())
            for symbol in expired:
                self._forget(symbol)
            if expired:
                self._sync.wake()

    async def _sync_interest(self, redis: Redis, pubsub: PubSub) -> None:
        """Keep Redis equal to the local registry: interest set, bus channels, snapshots."""
        while True:
            await self._sync.sleep(None)
            await self._push_interest(redis)
            await self._follow_channels(pubsub)
            await self._fetch_snapshots(redis)

    async def _push_interest(self, redis: Redis) -> None:
        registry = self._registry
        active = {s for s in registry.upstream_symbols() if registry.refcount(s) > 0}
        add, remove = self._interest.diff(active)
        rewrite = self._rewrite_interest
        if not add and not remove and not rewrite:
            return
        key = self.keys.interest(self.node_id)
        async with redis.pipeline(transaction=True) as pipe:
            if rewrite:  # drop what an earlier session left (Redis may have kept it)
                pipe.delete(key)
            if add:
                pipe.sadd(key, *add)
            if remove:
                pipe.srem(key, *remove)
            pipe.pexpire(key, self.settings.ttl_ms)
            pipe.spublish(self.keys.control, encode_control("N", node=self.node_id))
            await pipe.execute()
        self._interest.applied(add, remove)
        self._rewrite_interest = False

    async def _follow_channels(self, pubsub: PubSub) -> None:
        keys = self.keys
        wanted = {keys.bus(keys.shard_of(s)) for s in self._registry.upstream_symbols()}
        add, remove = self._channels.diff(wanted)
        if remove:
            await pubsub.sunsubscribe(*remove)
        if add:
            events = [self._confirmations.setdefault(c.encode(), anyio.Event()) for c in add]
            await pubsub.ssubscribe(*add)
            for event in events:  # the reader sets them: from now on nothing is missed
                await event.wait()
        self._channels.applied(add, remove)

    async def _fetch_snapshots(self, redis: Redis) -> None:
        """Last records for followed symbols with no value here yet (fetched once)."""
        missing = [
            s
            for s in self._registry.upstream_symbols()
            if s not in self._fetched and s not in self._last and s not in self._indicators
        ]
        if not missing:
            return
        self._fetched.update(missing)
        records = await redis.hmget(self.keys.last, missing)
        for symbol, record in zip(missing, records, strict=True):
            if record is None or not self._follows(symbol):
                continue
            self._snapshots += 1
            stamp, _, line = as_bytes(record).partition(b" ")  # "<ts_bus> <record>"
            ts_bus = int(stamp) if stamp.isdigit() else 0
            if line.startswith(b"Q "):
                if symbol in self._last:  # the bus was faster
                    continue
                try:
                    relayed = parse_quote_record(line, ts_bus)
                except BusFormatError:
                    self._bad += 1
                    continue
                self._take_quote(symbol, relayed.as_snapshot())
            else:
                self._take_record(line, ts_bus)

    async def _load_status(self, redis: Redis) -> None:
        raw = await redis.get(self.keys.status)
        if raw:
            self._on_control(as_bytes(raw))

    # -- the bus --------------------------------------------------------------------------

    async def _read(self, pubsub: PubSub) -> None:
        control = self._control
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            if kind == "smessage":
                if message["channel"] == control:
                    self._on_control(message["data"])
                else:
                    self._on_batch(message["data"])
            elif kind == "ssubscribe":
                event = self._confirmations.pop(message["channel"], None)
                if event is not None:
                    event.set()

    def _on_control(self, data: bytes) -> None:
        try:
            message = decode_control(data)
        except BusFormatError:
            self._bad += 1
            return
        kind = message.kind
        if kind == "S":
            if not self.gate.accept(message.token):
                return
            try:
                status = decode_status(message.body)
            except BusFormatError:
                self._bad += 1
                return
            if status != self._status:
                self._status = status
                self._callbacks.on_status(status)
        elif kind == "L":
            self.leadership.announced(message.token, message.node)
        elif kind == "R":
            self.leadership.released(message.node)
        elif kind == "N":
            self.leadership.interest_changed(message.node)

    def _on_batch(self, data: bytes) -> None:
        """The hot path: one bus message, every record for a followed symbol dispatched."""
        try:
            batch = decode_batch(data)
        except BusFormatError:
            self._bad += 1
            return
        if not self.gate.accept(batch.token):
            return
        self._batches += 1
        self._lag = lag = max(0, wall_clock_us() - batch.ts_bus) / 1e6
        if self.on_bus_lag is not None:
            self.on_bus_lag(lag)
        for record in batch.records:
            self._take_record(record, batch.ts_bus)

    def _take_record(self, record: bytes, ts_bus: int) -> None:
        self._records += 1
        end = record.find(b" ", 2)
        if end < 0:
            self._bad += 1
            return
        symbol = record[2:end].decode(errors="replace")
        if not self._follows(symbol):
            self._filtered += 1
            return
        kind = record[:2]
        try:
            if kind == b"Q ":
                self._take_quote(symbol, parse_quote_record(record, ts_bus))
            elif kind == b"I ":
                value = decode_fear_greed(record[end + 1 :])
                self._indicators[symbol] = value
                if self._registry.subscribers(symbol):
                    self._callbacks.on_indicator(value)
            else:
                self._bad += 1
        except BusFormatError:
            self._bad += 1

    def _take_quote(self, symbol: str, relayed: RelayedQuote) -> None:
        previous = self._last.get(symbol)
        if (
            previous is not None
            and previous.ts_library_in == relayed.ts_library_in
            and previous.ts_upstream == relayed.ts_upstream
        ):
            return  # the same record twice (a fetched snapshot, then the bus)
        self._last[symbol] = relayed
        self._quotes.pop(symbol, None)
        if self._registry.subscribers(symbol):
            self._callbacks.on_relayed_quote(relayed)

    def _follows(self, symbol: str) -> bool:
        registry = self._registry
        return registry.refcount(symbol) > 0 or registry.is_lingering(symbol)

    def _unknown_health(self) -> dict[str, Any]:
        status = self._status
        return {
            "mode": status.mode.value,
            "market": status.market.value,
            "market_open": False,
            "reason": status.reason,
            "mode_age_s": 0.0,
            "upstream": {
                "state": status.upstream.value,
                "shards": {},
                "connections": 0,
                "last_quote_age_s": None,
                "reconnects": 0,
                "stalls": 0,
            },
            "counts": {},
        }


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "…"
