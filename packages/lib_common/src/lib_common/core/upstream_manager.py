"""The engine's I/O layer: one owner for the upstream connections and what clients want.

`UpstreamManager` ties the sans-I/O parts (`SymbolRegistry`, `UpstreamModeMachine`,
`StreamHealth`, `LastValues`, the market calendar) to the ingestors (the Yahoo stream
client, the REST poller, the CNN Fear & Greed poller) and hands the gateway quotes, status
changes and indicator values through callbacks. See docs/engine.md, "Upstream manager".

Data flow:

- Clients (through the gateway, synchronously, never awaiting the upstream) call
  `subscribe` / `unsubscribe` / `disconnect`. The registry decides; the manager applies
  the decision at once: `stream.add/remove` for market symbols, the CNN poller for
  `@fear_greed` (never sent to Yahoo), and re-arms the linger timer.
- Stream quotes → `on_quote` whenever they arrive; poll quotes → `on_quote` in POLLING
  and IDLE (slow refresh) when they add something (`LastValues` rules).
- Mode transitions and market-session changes → `on_status`, each logged once.

Time: one `Clock` (monotonic + wall + sleep). One timer task sleeps until the earliest of
the linger deadline, the mode machine's deadline and the next market check (the next
session boundary, or `market_recheck` at the latest), and is woken early when a decision
moves that deadline closer.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.core.calendar import US_MARKETS, MarketCalendar
from lib_common.core.clock import SYSTEM_CLOCK, Clock
from lib_common.core.last_values import LastValues
from lib_common.core.market_hours import MarketSession
from lib_common.core.registry import (
    DEFAULT_CLIENT_LIMIT,
    DEFAULT_GLOBAL_LIMIT,
    DEFAULT_LINGER,
    RegistryChange,
    RegistryStats,
    SymbolRegistry,
)
from lib_common.core.stream_health import StreamHealth, StreamState, Verdict
from lib_common.core.symbols import is_indicator
from lib_common.core.upstream_modes import (
    DEFAULT_GRACE,
    DEFAULT_HYSTERESIS,
    Transition,
    UpstreamMode,
    UpstreamModeMachine,
)
from lib_common.ingestors.cnn.model import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream_events import StreamStats, StreamStatus

__all__ = [
    "FEAR_GREED",
    "IndicatorSource",
    "ManagerSettings",
    "PollSource",
    "StreamSource",
    "UpstreamHealth",
    "UpstreamManager",
    "UpstreamStats",
    "UpstreamStatus",
]

ClientT = TypeVar("ClientT", bound=Hashable)

FEAR_GREED = "@fear_greed"
"""The subscribable name of CNN's Fear & Greed index."""

STREAMING, POLLING, IDLE = UpstreamMode.STREAMING, UpstreamMode.POLLING, UpstreamMode.IDLE
_BOUNDARY_SLACK = 0.001  # wake just after a session boundary, never just before it


# -- what the manager drives (the real ingestors satisfy these) -----------------------


class StreamSource(Protocol):
    """The Yahoo stream client (`YahooStreamClient`) as the manager uses it."""

    def deliver_quotes_to(self, on_quote: Callable[[Quote], None]) -> None: ...

    @property
    def status(self) -> AsyncIterable[StreamStatus]: ...

    def add(self, symbols: Iterable[str]) -> None: ...

    def remove(self, symbols: Iterable[str]) -> None: ...

    def shard_of(self, symbol: str) -> int | None: ...

    def stats(self) -> StreamStats: ...

    async def run(self, *, task_status: TaskStatus[None] = ...) -> None: ...


class PollCadenceView(Protocol):
    """When the REST poller may start its next round (it holds after 429s and outages)."""

    def next_poll_at(self) -> float: ...

    def may_send(self, now: float) -> bool: ...


class PollSource(Protocol):
    """The Yahoo REST poller (`YahooRestPoller`), driven one round at a time.

    Its cadence must read the manager's monotonic clock (`clock=clock.monotonic`).
    """

    @property
    def cadence(self) -> PollCadenceView: ...

    async def poll_once(self, symbols: Iterable[str]) -> list[Quote]: ...

    async def aclose(self) -> None: ...


class IndicatorSource(Protocol):
    """The CNN Fear & Greed poller (`FearGreedPoller`): runs its own schedule."""

    async def run(self, emit: Callable[[FearGreed], Awaitable[None] | None]) -> None: ...

    async def aclose(self) -> None: ...


# -- settings and reports --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagerSettings:
    """Knobs of the manager, in seconds.

    linger: how long an unwanted symbol stays subscribed upstream. client_limit /
      global_limit: symbols per client / upstream (the registry's limits).
    grace: a stream down or stalled this long → POLLING. hysteresis: a recovered stream
      must stay healthy this long → back to STREAMING.
    idle_poll_interval: in IDLE (market closed), refresh last values by REST this often
      (None: never; new symbols still get one poll for their snapshot).
    market_recheck: re-evaluate the market at least this often (FX/futures week
      boundaries are not NYSE session boundaries).
    """

    linger: float = DEFAULT_LINGER
    client_limit: int = DEFAULT_CLIENT_LIMIT
    global_limit: int = DEFAULT_GLOBAL_LIMIT
    grace: float = DEFAULT_GRACE
    hysteresis: float = DEFAULT_HYSTERESIS
    idle_poll_interval: float | None = 300.0
    market_recheck: float = 60.0

    def __post_init__(self) -> None:
        if self.idle_poll_interval is not None and not self.idle_poll_interval > 0:
            raise ValueError("idle_poll_interval must be > 0 (or None)")
        if not self.market_recheck > 0:
            raise ValueError("market_recheck must be > 0")


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """What clients are told when the mode or the market session changes.

    mode: where quotes come from; market: the NYSE session; reason: why this status
    (a transition's reason, or the session change); upstream: the stream's state;
    at_us: wall-clock µs since the epoch.
    """

    mode: UpstreamMode
    market: MarketSession
    reason: str
    upstream: StreamState
    at_us: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (enums as their wire spelling)."""
        return {
            "mode": self.mode.value,
            "market": self.market.value,
            "reason": self.reason,
            "upstream": self.upstream.value,
            "at_us": self.at_us,
        }


@dataclass(frozen=True, slots=True)
class UpstreamStats:
    """Counters for metrics (all since start).

    quotes_in: by source ("stream", "poll"); quotes_out: forwarded to `on_quote`, by source;
    quotes_dropped: by reason ("stale", "unchanged", "unwanted", "mode");
    transitions: by "old->new"; upstream_subscribes / upstream_unsubscribes: symbols
    handed to the stream client to subscribe / unsubscribe; poll_rounds: REST rounds;
    indicator_values: Fear & Greed values received.
    """

    quotes_in: dict[str, int]
    quotes_out: dict[str, int]
    quotes_dropped: dict[str, int]
    transitions: dict[str, int]
    upstream_subscribes: int
    upstream_unsubscribes: int
    poll_rounds: int
    indicator_values: int
    registry: RegistryStats


@dataclass(frozen=True, slots=True)
class UpstreamHealth:
    """The `/health` view; `as_dict()` gives JSON.

    mode, market, reason: as in the last status; market_open: whether any followed symbol
    may trade now; mode_age: seconds in this mode. upstream: the stream's state; shards:
    per-connection states; connections: sockets open; last_quote_age: seconds since the
    last stream quote was received (None: none yet); reconnects, stalls: since start.
    active_symbols / lingering_symbols / clients: from the registry.
    """

    mode: UpstreamMode
    market: MarketSession
    market_open: bool
    reason: str
    mode_age: float
    upstream: StreamState
    shards: dict[int, str]
    connections: int
    last_quote_age: float | None
    reconnects: int
    stalls: int
    active_symbols: int
    lingering_symbols: int
    clients: int
    stats: UpstreamStats

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready nested fields."""
        stats = self.stats
        return {
            "mode": self.mode.value,
            "market": self.market.value,
            "market_open": self.market_open,
            "reason": self.reason,
            "mode_age_s": round(self.mode_age, 3),
            "upstream": {
                "state": self.upstream.value,
                "shards": {str(k): v for k, v in self.shards.items()},
                "connections": self.connections,
                "last_quote_age_s": (
                    None if self.last_quote_age is None else round(self.last_quote_age, 3)
                ),
                "reconnects": self.reconnects,
                "stalls": self.stalls,
            },
            "symbols": {
                "active": self.active_symbols,
                "lingering": self.lingering_symbols,
                "clients": self.clients,
            },
            "counts": {
                "quotes_in": stats.quotes_in,
                "quotes_out": stats.quotes_out,
                "quotes_dropped": stats.quotes_dropped,
                "transitions": stats.transitions,
                "upstream_subscribes": stats.upstream_subscribes,
                "upstream_unsubscribes": stats.upstream_unsubscribes,
                "poll_rounds": stats.poll_rounds,
                "indicator_values": stats.indicator_values,
            },
        }


# -- the manager -----------------------------------------------------------------------


class _Alarm:
    """A sleep on the injected clock that other code can cut short (a re-armable timer).

    The sleeping task recomputes its deadline from state every time it wakes, so
    `poke()` only has to wake it when the new deadline is earlier than the armed one.
    """

    __slots__ = ("_clock", "_deadline", "_scope")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._scope: anyio.CancelScope | None = None
        self._deadline: float | None = None

    async def sleep_until(self, deadline: float | None) -> None:
        with anyio.CancelScope() as scope:
            self._scope, self._deadline = scope, deadline
            try:
                if deadline is None:
                    await anyio.sleep_forever()
                else:
                    await self._clock.sleep(deadline - self._clock.monotonic())
            finally:
                self._scope = None

    def poke(self, deadline: float | None) -> None:
        """Wake the sleeper if `deadline` comes before the one it sleeps until."""
        scope = self._scope
        if scope is None or deadline is None:
            return
        if self._deadline is None or deadline < self._deadline:
            scope.cancel()

    def wake(self) -> None:
        """Wake the sleeper now (it re-reads the state)."""
        if self._scope is not None:
            self._scope.cancel()


class _Count(enum.Enum):
    STALE = "stale"  # older than the value held
    UNCHANGED = "unchanged"  # a poll that repeats the value held
    UNWANTED = "unwanted"  # for a symbol no longer followed
    MODE = "mode"  # a poll that finished after the stream took over again


class UpstreamManager(Generic[ClientT]):
    """Owns the symbol registry and every upstream source; see the module docstring.

    Run it with `await tg.start(manager.run)`. The client API (`subscribe`, `unsubscribe`,
    `disconnect`) and the queries are synchronous and may be called before `run`.
    Callbacks are called from the manager's tasks (and, for `on_status`, from inside a
    client API call whose change moved the mode): they must not block and must not call
    back into the manager. The manager owns the sources it is given: `run` starts them and
    closes the pollers when it ends.
    """

    def __init__(
        self,
        *,
        stream: StreamSource,
        on_quote: Callable[[Quote], None],
        on_status: Callable[[UpstreamStatus], None],
        on_indicator: Callable[[FearGreed], None] | None = None,
        poller: PollSource | None = None,
        fear_greed: IndicatorSource | None = None,
        calendar: MarketCalendar = US_MARKETS,
        clock: Clock = SYSTEM_CLOCK,
        settings: ManagerSettings | None = None,
    ) -> None:
        self.settings = settings = settings or ManagerSettings()
        self._stream = stream
        self._poller = poller
        self._fear_greed = fear_greed
        self._on_quote = on_quote
        self._on_status = on_status
        self._on_indicator = on_indicator
        self._calendar = calendar
        self._clock = clock
        self._registry = SymbolRegistry[ClientT](
            linger=settings.linger,
            client_limit=settings.client_limit,
            global_limit=settings.global_limit,
        )
        self._machine = UpstreamModeMachine(grace=settings.grace, hysteresis=settings.hysteresis)
        self._health = StreamHealth()
        self._values = LastValues()
        self._followed: dict[str, None] = {}  # market symbols upstream (active or lingering)
        self._streamed: set[str] = set()  # what the stream client was told to follow
        self._pending_poll: dict[str, None] = {}  # new symbols waiting for a first REST value
        self._stream_proven = False  # mirrors `_health.healthy` for the hot path
        self._market_open = False
        self._started = False
        now = clock.monotonic()
        self._mode_since = now
        self._market_check_at = now
        self._last_round = float("-inf")
        self._session = calendar.session_at(self._wall())
        self._status = self._make_status("starting")
        self._timer = _Alarm(clock)
        self._poll_alarm = _Alarm(clock)
        self._indicator_alarm = _Alarm(clock)
        self._indicator_scope: anyio.CancelScope | None = None
        self._last_stream_us: int | None = None
        # counters
        self._stream_in = self._stream_out = self._poll_in = self._poll_out = 0
        self._dropped: Counter[_Count] = Counter()
        self._transitions: Counter[str] = Counter()
        self._up_subscribes = 0
        self._up_unsubscribes = 0
        self._poll_rounds = 0
        self._indicator_values = 0

    # -- client API (synchronous) ----------------------------------------------------

    def subscribe(self, client: ClientT, symbols: Iterable[object]) -> RegistryChange:
        """Add `symbols` (raw names) for `client`; the change says what was accepted,
        what was rejected and why (send those as error frames)."""
        now = self._clock.monotonic()
        change = self._registry.subscribe(client, symbols, now)
        self._apply(change, now)
        return change

    def unsubscribe(self, client: ClientT, symbols: Iterable[object]) -> RegistryChange:
        """Drop `symbols` for `client` (names it does not hold are rejected)."""
        now = self._clock.monotonic()
        change = self._registry.unsubscribe(client, symbols, now)
        self._apply(change, now)
        return change

    def disconnect(self, client: ClientT) -> RegistryChange:
        """Forget `client` (its connection is gone); its symbols start lingering."""
        now = self._clock.monotonic()
        change = self._registry.disconnect(client, now)
        self._apply(change, now)
        return change

    # -- queries ---------------------------------------------------------------------

    @property
    def registry(self) -> SymbolRegistry[ClientT]:
        """The registry (read it; change it only through the client API)."""
        return self._registry

    @property
    def mode(self) -> UpstreamMode:
        return self._machine.mode

    def subscribers(self, symbol: str) -> Collection[ClientT]:
        """Clients subscribed to `symbol` (a live view: copy it to keep it)."""
        return self._registry.subscribers(symbol)

    def last_quote(self, symbol: str) -> Quote | None:
        """The last quote of `symbol` (normalised), for snapshots."""
        return self._values.quote(symbol)

    def last_indicator(self, name: str) -> FearGreed | None:
        """The last value of an indicator (`"@fear_greed"` or `"fear_greed"`)."""
        return self._values.indicator(name)

    def status(self) -> UpstreamStatus:
        """The status now, for a client that just connected: the last status sent, with
        the stream's current state."""
        return replace(self._status, upstream=self._health.state)

    def stats(self) -> UpstreamStats:
        """Counters for metrics."""
        return UpstreamStats(
            quotes_in={"stream": self._stream_in, "poll": self._poll_in},
            quotes_out={"stream": self._stream_out, "poll": self._poll_out},
            quotes_dropped={k.value: v for k, v in self._dropped.items()},
            transitions=dict(self._transitions),
            upstream_subscribes=self._up_subscribes,
            upstream_unsubscribes=self._up_unsubscribes,
            poll_rounds=self._poll_rounds,
            indicator_values=self._indicator_values,
            registry=self._registry.stats(),
        )

    def health(self) -> UpstreamHealth:
        """The `/health` view."""
        now = self._clock.monotonic()
        stream = self._stream.stats()
        reg = self._registry.stats()
        age = None
        if self._last_stream_us is not None:
            age = max(0.0, self._clock.time() - self._last_stream_us / 1e6)
        return UpstreamHealth(
            mode=self._machine.mode,
            market=self._session,
            market_open=self._market_open,
            reason=self._status.reason,
            mode_age=now - self._mode_since,
            upstream=self._health.state,
            shards={k: v.value for k, v in self._health.shards().items()},
            connections=stream.connections,
            last_quote_age=age,
            reconnects=stream.reconnects,
            stalls=stream.stalls,
            active_symbols=reg.active_symbols,
            lingering_symbols=reg.lingering_symbols,
            clients=reg.clients,
            stats=self.stats(),
        )

    def is_trading(self, symbol: str, now: datetime) -> bool:
        """Whether `symbol` may trade at `now` by the manager's calendar (crypto: always)."""
        last = self._values.quote(symbol)
        return self._calendar.may_trade(symbol, now, last.quote_type if last else None)

    # -- running ---------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the stream client, the pollers, the timer and the pumps until cancelled."""
        if self._started:
            raise RuntimeError("an UpstreamManager runs only once")
        self._started = True
        try:
            async with anyio.create_task_group() as tg:
                # Quotes come straight from the socket's read callback: no queue, no task.
                self._stream.deliver_quotes_to(self._stream_quote)
                await tg.start(self._stream.run)
                tg.start_soon(self._pump_status, name="upstream status")
                self._check_market(self._clock.monotonic())
                self._emit_status("started")
                tg.start_soon(self._run_timer, name="upstream timer")
                if self._poller is not None:
                    tg.start_soon(self._run_poller, self._poller, name="upstream REST poller")
                if self._fear_greed is not None:
                    tg.start_soon(self._run_indicator, self._fear_greed, name="fear & greed")
                task_status.started()
        finally:
            with anyio.CancelScope(shield=True):
                for source in (self._poller, self._fear_greed):
                    if source is not None:
                        await source.aclose()

    # -- registry decisions → upstream -----------------------------------------------

    def _apply(self, change: RegistryChange, now: float) -> None:
        # Unsubscribes first: a reclaimed slot must be free before the new symbol takes it.
        if change.upstream_unsubscribe:
            self._upstream_removed(change.upstream_unsubscribe, now)
        if change.upstream_subscribe:
            self._upstream_added(change.upstream_subscribe, now)
        if change.linger_started:
            self._timer.poke(self._registry.next_deadline())

    def _upstream_added(self, symbols: tuple[str, ...], now: float) -> None:
        market = [s for s in symbols if not is_indicator(s)]
        if len(market) < len(symbols):
            self._indicator_alarm.wake()
        if not market:
            return
        self._followed.update(dict.fromkeys(market))
        if self._machine.mode is not IDLE:
            self._send_add(market)
        if self._machine.mode is not STREAMING and self._poller is not None:
            # No stream snapshot is coming: fetch a first value by REST.
            self._pending_poll.update(dict.fromkeys(market))
            self._poll_alarm.wake()
        self._evaluate_demand(now, added=market)

    def _upstream_removed(self, symbols: tuple[str, ...], now: float) -> None:
        market = [s for s in symbols if not is_indicator(s)]
        if FEAR_GREED in symbols and self._indicator_scope is not None:
            self._indicator_scope.cancel()
        if not market:
            return
        for symbol in market:
            self._followed.pop(symbol, None)
            self._pending_poll.pop(symbol, None)
        self._send_remove([s for s in market if s in self._streamed])
        self._values.forget(market)
        self._evaluate_demand(now)

    def _send_add(self, symbols: list[str]) -> None:
        if symbols:
            self._stream.add(symbols)
            self._streamed.update(symbols)
            self._up_subscribes += len(symbols)

    def _send_remove(self, symbols: list[str]) -> None:
        if symbols:
            self._stream.remove(symbols)
            self._streamed.difference_update(symbols)
            self._up_unsubscribes += len(symbols)

    def _is_followed(self, symbol: str) -> bool:
        registry = self._registry
        return registry.refcount(symbol) > 0 or registry.is_lingering(symbol)

    # -- mode ------------------------------------------------------------------------

    def _wall(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    def _evaluate_demand(self, now: float, *, added: list[str] | None = None) -> None:
        """Tell the machine whether anything is followed and whether any of it may trade.

        Adding symbols cannot close an open market, so only the new ones are checked then.
        """
        wall = self._wall()
        if added is None:
            market_open = any(self._may_trade(s, wall) for s in self._followed)
        else:
            market_open = self._market_open or any(self._may_trade(s, wall) for s in added)
        self._market_open = market_open
        transition = self._machine.set_demand(
            has_symbols=bool(self._followed), market_open=market_open, now=now
        )
        if transition is not None:
            self._transition(transition)

    def _may_trade(self, symbol: str, wall: datetime) -> bool:
        last = self._values.quote(symbol)
        return self._calendar.may_trade(symbol, wall, last.quote_type if last else None)

    def _check_market(self, now: float) -> None:
        """Re-read the calendar: session change, demand, and when to look again."""
        wall = self._wall()
        session = self._calendar.session_at(wall)
        if session is not self._session:
            old, self._session = self._session, session
            reason = f"market session {old.value} → {session.value}"
            logger.info("upstream: {}", reason)
            self._emit_status(reason)
        self._evaluate_demand(now)
        wait = self.settings.market_recheck
        change = self._calendar.next_change(wall)
        if change is not None:
            wait = min(wait, (change - wall).total_seconds() + _BOUNDARY_SLACK)
        self._market_check_at = now + max(wait, _BOUNDARY_SLACK)

    def _transition(self, transition: Transition) -> None:
        old, new = transition.old, transition.new
        self._transitions[f"{old.value}->{new.value}"] += 1
        self._mode_since = transition.at
        logger.info("upstream mode {} → {}: {}", old.value, new.value, transition.reason)
        if new is IDLE:
            # Nothing is expected to trade: no stream (the client closes idle sockets).
            self._send_remove(sorted(self._streamed))
        elif old is IDLE:
            self._send_add([s for s in self._followed if s not in self._streamed])
        if new is STREAMING:
            self._pending_poll.clear()
        self._poll_alarm.wake()
        self._timer.poke(self._machine.next_deadline())
        self._emit_status(transition.reason)

    def _make_status(self, reason: str) -> UpstreamStatus:
        return UpstreamStatus(
            mode=self._machine.mode,
            market=self._session,
            reason=reason,
            upstream=self._health.state,
            at_us=int(self._clock.time() * 1_000_000),
        )

    def _emit_status(self, reason: str) -> None:
        self._status = status = self._make_status(reason)
        self._on_status(status)

    # -- tasks -----------------------------------------------------------------------

    async def _run_timer(self) -> None:
        """Linger expiry, grace/hysteresis deadlines and market checks, each on time."""
        while True:
            await self._timer.sleep_until(self._next_deadline())
            now = self._clock.monotonic()
            expired = self._registry.expire(now)
            if expired:
                self._upstream_removed(expired, now)
            transition = self._machine.poll(now)
            if transition is not None:
                self._transition(transition)
            if now >= self._market_check_at:
                self._check_market(now)

    def _next_deadline(self) -> float:
        deadline = self._market_check_at
        for other in (self._registry.next_deadline(), self._machine.next_deadline()):
            if other is not None and other < deadline:
                deadline = other
        return deadline

    def _stream_quote(self, quote: Quote) -> None:
        self._stream_in += 1
        if not self._stream_proven:
            shard = self._stream.shard_of(quote.symbol)
            self._observe(self._health.on_quote(shard, quote.ts_library_in))
        if quote.symbol not in self._streamed:
            self._dropped[_Count.UNWANTED] += 1
        elif self._values.accept_stream(quote):
            self._last_stream_us = quote.ts_library_in
            self._stream_out += 1
            self._on_quote(quote)
        else:
            self._dropped[_Count.STALE] += 1

    async def _pump_status(self) -> None:
        async for event in self._stream.status:
            self._observe(self._health.on_event(event))

    def _observe(self, verdict: Verdict | None) -> None:
        """Pass a stream-health verdict to the mode machine."""
        self._stream_proven = self._health.healthy
        if verdict is None:
            return
        now = self._clock.monotonic()
        machine = self._machine
        if verdict is Verdict.HEALTHY:
            transition = machine.stream_data(now)
        elif verdict is Verdict.STALLED:
            transition = machine.stream_stalled(now)
        else:
            transition = machine.stream_disconnected(now)
        if transition is not None:
            self._transition(transition)
        self._timer.poke(machine.next_deadline())

    async def _run_poller(self, poller: PollSource) -> None:
        """REST rounds: on the poller's cadence in POLLING, every `idle_poll_interval` in
        IDLE, and at once (only those symbols) for new symbols that no stream serves."""
        while True:
            await self._poll_alarm.sleep_until(self._next_round(poller))
            now = self._clock.monotonic()
            due = self._next_round(poller)
            if due is None or due > now:
                continue
            symbols, full = self._round_symbols(poller, now)
            self._pending_poll.clear()
            if full:
                self._last_round = now
            self._poll_rounds += 1
            for quote in await poller.poll_once(symbols):
                self._poll_quote(quote)

    def _next_round(self, poller: PollSource) -> float | None:
        mode = self._machine.mode
        if mode is STREAMING or not self._followed:
            return None
        cadence = poller.cadence
        held = cadence.next_poll_at()
        if self._pending_poll:
            # New symbols go now, unless a 429/outage hold forbids sending anything.
            now = self._clock.monotonic()
            return now if cadence.may_send(now) else held
        if mode is POLLING:
            return held
        interval = self.settings.idle_poll_interval
        if interval is None:
            return None
        return max(held, self._last_round + interval)

    def _round_symbols(self, poller: PollSource, now: float) -> tuple[list[str], bool]:
        """Everything when a full round is due (True), else the symbols awaiting a value."""
        if self._machine.mode is POLLING:
            full_due = poller.cadence.next_poll_at() <= now
        else:
            interval = self.settings.idle_poll_interval
            full_due = interval is not None and self._last_round + interval <= now
        if full_due or not self._pending_poll:
            return list(self._followed), True
        return list(self._pending_poll), False

    def _poll_quote(self, quote: Quote) -> None:
        self._poll_in += 1
        if self._machine.mode is STREAMING:
            self._dropped[_Count.MODE] += 1
        elif not self._is_followed(quote.symbol):
            self._dropped[_Count.UNWANTED] += 1
        elif self._values.accept_poll(quote):
            self._poll_out += 1
            self._on_quote(quote)
        else:
            self._dropped[_Count.UNCHANGED] += 1

    async def _run_indicator(self, source: IndicatorSource) -> None:
        """Run the Fear & Greed poller while `@fear_greed` is followed (lingering counts)."""
        while True:
            if not self._is_followed(FEAR_GREED):
                await self._indicator_alarm.sleep_until(None)
                continue
            with anyio.CancelScope() as scope:
                self._indicator_scope = scope
                try:
                    await source.run(self._indicator_value)
                finally:
                    self._indicator_scope = None
            await anyio.lowlevel.checkpoint()

    def _indicator_value(self, value: FearGreed) -> None:
        self._indicator_values += 1
        self._values.set_indicator(FEAR_GREED, value)
        if self._on_indicator is not None:
            self._on_indicator(value)
