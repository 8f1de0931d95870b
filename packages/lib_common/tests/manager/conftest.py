"""Shared pieces for the upstream manager tests.

- `Recorder`: what the manager handed to its callbacks, with `until(predicate)` waits that
  wake on every callback (and every few ms for conditions on the simulator), under a
  deadline: no fixed sleeps.
- `ScriptedStream`: a stand-in for the Yahoo stream client in the manual-clock tests,
  where the test plays the upstream's events itself (the stream client's watchdog and
  backoff run on real time, which a manual clock cannot drive). The end-to-end tests use
  the real client against the real simulator.
- `sim_tools`: a manager wired to the real stream client, REST poller and CNN poller,
  all pointed at a loopback simulator with short timers; the simulator's counters.

Durations are multiples of `UNIT` seconds; RSDEV_TEST_TIME_SCALE stretches them.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import anyio
import pytest
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.core.calendar import ALWAYS_OPEN, US_MARKETS, MarketCalendar, trading_predicate
from lib_common.core.clock import SYSTEM_CLOCK, Clock, ManualClock, settle
from lib_common.core.upstream_manager import (
    IndicatorSource,
    ManagerSettings,
    PollSource,
    UpstreamManager,
    UpstreamStatus,
)
from lib_common.ingestors.cnn import FearGreedPoller
from lib_common.ingestors.cnn.model import FearGreed
from lib_common.ingestors.yahoo.backoff import BackoffPolicy
from lib_common.ingestors.yahoo.quote import Quote, QuoteType
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ingestors.yahoo.stream import StreamConfig, YahooStreamClient
from lib_common.ingestors.yahoo.stream_events import Connected, StreamStats, StreamStatus
from lib_common.sim import Simulator

SCALE = float(os.environ.get("RSDEV_TEST_TIME_SCALE", "1"))
UNIT = 0.1 * SCALE
DEADLINE = 50 * UNIT  # reached only when a test is about to fail


class Recorder:
    """The manager's callbacks, recorded with the monotonic time they were called."""

    def __init__(self) -> None:
        self.quotes: list[tuple[float, Quote]] = []
        self.statuses: list[tuple[float, UpstreamStatus]] = []
        self.indicators: list[tuple[float, FearGreed]] = []
        self._changed = anyio.Event()

    def on_quote(self, quote: Quote) -> None:
        self.quotes.append((time.monotonic(), quote))
        self._changed.set()

    def on_status(self, status: UpstreamStatus) -> None:
        self.statuses.append((time.monotonic(), status))
        self._changed.set()

    def on_indicator(self, value: FearGreed) -> None:
        self.indicators.append((time.monotonic(), value))
        self._changed.set()

    def modes(self) -> list[str]:
        """The modes of the statuses, in order, consecutive repeats collapsed."""
        out: list[str] = []
        for _, status in self.statuses:
            if not out or out[-1] != status.mode.value:
                out.append(status.mode.value)
        return out

    def quotes_since(self, t0: float, source: str | None = None) -> list[Quote]:
        return [q for t, q in self.quotes if t >= t0 and (source is None or q.source == source)]

    async def until(self, predicate: Callable[[], bool], limit: float = DEADLINE) -> float:
        """Wait at most `limit` s for `predicate`; return the monotonic time it held."""
        with anyio.fail_after(limit):
            while not predicate():
                self._changed = anyio.Event()
                with anyio.move_on_after(0.005):
                    await self._changed.wait()
        return time.monotonic()


@pytest.fixture
def recorder() -> Recorder:
    """A fresh callback recorder."""
    return Recorder()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Messages loguru emits while the test runs."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG")
    yield lines
    logger.remove(handler)


def quote(symbol: str, price: float, ts_s: float, *, source: str = "stream", **kw: Any) -> Quote:
    """A quote at `ts_s` epoch seconds (ts_upstream in µs)."""
    return Quote(
        symbol=symbol,
        price=price,
        ts_upstream=int(ts_s * 1_000_000),
        ts_library_in=int(ts_s * 1_000_000),
        source=source,  # type: ignore[arg-type]
        **kw,
    )


class ScriptedStream:
    """The stream client's interface, played by the test.

    `add` answers like Yahoo: the first `add` "connects" shard 0 (a `Connected` event) and
    every added symbol gets a snapshot quote, unless `silent` is set. The test injects
    anything else with `event()` and `send()`. Quotes reach the manager's sink from this
    stream's own task, as the real client's come from a socket callback: never from inside
    the manager's call to `add`.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sink: Callable[[Quote], None] | None = None
        self._quote_tx, self._quotes = anyio.create_memory_object_stream[Quote](1000)
        self._status_tx, self.status = anyio.create_memory_object_stream[StreamStatus](1000)
        self.symbols: set[str] = set()
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.connected = False
        self.silent = False

    def add(self, symbols: Iterable[str]) -> None:
        added = tuple(symbols)
        self.calls.append(("add", added))
        self.symbols.update(added)
        if self.silent:
            return
        if not self.connected:
            self.connected = True
            self.event(Connected(0, "ws://scripted", len(self.symbols)))
        for symbol in added:
            qt = QuoteType.CRYPTOCURRENCY if symbol.endswith("-USD") else QuoteType.EQUITY
            self.send(quote(symbol, 100.0, self._clock(), quote_type=qt))

    def remove(self, symbols: Iterable[str]) -> None:
        removed = tuple(symbols)
        self.calls.append(("remove", removed))
        self.symbols.difference_update(removed)

    def shard_of(self, symbol: str) -> int | None:
        return 0 if symbol in self.symbols else None

    def stats(self) -> StreamStats:
        return StreamStats(connections=int(self.connected), symbols=len(self.symbols))

    def event(self, event: StreamStatus) -> None:
        self._status_tx.send_nowait(event)

    def send(self, q: Quote) -> None:
        self._quote_tx.send_nowait(q)

    def deliver_quotes_to(self, on_quote: Callable[[Quote], None]) -> None:
        self._sink = on_quote

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        assert self._sink is not None, "the manager attaches its sink before run"
        task_status.started()
        try:
            async for q in self._quotes:
                self._sink(q)
        finally:
            self._quote_tx.close()
            self._status_tx.close()


class Harness:
    """A manager on a manual clock with a scripted stream, and what it reported."""

    def __init__(
        self,
        wall: datetime,
        *,
        calendar: MarketCalendar,
        settings: ManagerSettings | None,
        poller: PollSource | None,
        fear_greed: IndicatorSource | None,
        clock: ManualClock | None,
    ) -> None:
        self.clock = clock or ManualClock(wall=wall.timestamp())
        self.stream = ScriptedStream(self.clock.time)
        self.rec = Recorder()
        self.manager = UpstreamManager[str](
            stream=self.stream,
            on_quote=self.rec.on_quote,
            on_status=self.rec.on_status,
            on_indicator=self.rec.on_indicator,
            poller=poller,
            fear_greed=fear_greed,
            calendar=calendar,
            clock=self.clock,
            settings=settings,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        """Run the manager until the block exits."""
        async with anyio.create_task_group() as tg:
            await tg.start(self.manager.run)
            await settle()
            yield self
            tg.cancel_scope.cancel()

    async def advance(self, seconds: float) -> None:
        """Move the manual clock, letting every woken task run."""
        await self.clock.advance(seconds)

    async def advance_to(self, wall: datetime) -> None:
        """Move the manual clock to the wall-clock instant `wall`."""
        await self.clock.advance(wall.timestamp() - self.clock.time())

    async def settle(self) -> None:
        """Let every task run until all wait (scripted events get processed)."""
        await settle()

    def mode(self) -> str:
        return self.manager.mode.value


HarnessFactory = Callable[..., Harness]


@pytest.fixture
def make_harness() -> HarnessFactory:
    """`make_harness(wall, calendar=, settings=, poller=, fear_greed=, clock=)`; `clock`
    (a ManualClock already at `wall`) lets pollers be built on the same clock first."""

    def make(
        wall: datetime,
        *,
        calendar: MarketCalendar = US_MARKETS,
        settings: ManagerSettings | None = None,
        poller: PollSource | None = None,
        fear_greed: IndicatorSource | None = None,
        clock: ManualClock | None = None,
    ) -> Harness:
        return Harness(
            wall,
            calendar=calendar,
            settings=settings,
            poller=poller,
            fear_greed=fear_greed,
            clock=clock,
        )

    return make


@pytest.fixture
def make_quote() -> Callable[..., Quote]:
    """`make_quote(symbol, price, ts_s, source="stream", **fields)`."""
    return quote


class SimTools:
    """Managers on the real ingestors against a simulator, and the simulator's counters."""

    @staticmethod
    def stream_config(url: str, **overrides: Any) -> StreamConfig:
        """Loopback settings: short timers, no heartbeat, no watchdog, no proxy."""
        config = StreamConfig(
            url=url,
            inactivity_timeout=0,
            heartbeat_interval=0,
            ping_interval=None,
            open_timeout=10 * UNIT,
            close_timeout=5 * UNIT,
            idle_grace=0.5 * UNIT,
            backoff=BackoffPolicy(base=0.1 * UNIT, cap=0.5 * UNIT, floor=0.01 * UNIT),
            quote_buffer=10_000,
            proxy=None,
        )
        return replace(config, **overrides)

    @asynccontextmanager
    async def manager(
        self,
        sim: Simulator,
        *,
        settings: ManagerSettings,
        clock: Clock = SYSTEM_CLOCK,
        calendar: MarketCalendar = ALWAYS_OPEN,
        stream: dict[str, Any] | None = None,
        rest_interval: float | None = None,
        cnn: bool = False,
    ) -> AsyncIterator[tuple[UpstreamManager[str], Recorder]]:
        """Run a manager on the real clients until the block exits."""
        rec = Recorder()
        client = YahooStreamClient(
            self.stream_config(sim.ws_url, **(stream or {})),
            is_trading=trading_predicate(calendar),
        )
        poller = None
        if rest_interval is not None:
            poller = YahooRestPoller(
                sim.rest_url, interval=rest_interval, clock=clock.monotonic, sleep=clock.sleep
            )
        fear_greed = None
        if cnn:
            fear_greed = FearGreedPoller(
                sim.base_url, clock=clock.monotonic, sleep=clock.sleep, history=False
            )
        manager = UpstreamManager[str](
            stream=client,
            on_quote=rec.on_quote,
            on_status=rec.on_status,
            on_indicator=rec.on_indicator,
            poller=poller,
            fear_greed=fear_greed,
            calendar=calendar,
            clock=clock,
            settings=settings,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(manager.run)
            yield manager, rec
            tg.cancel_scope.cancel()

    @staticmethod
    def subscribes(sim: Simulator, symbol: str) -> int:
        return int(sim.stats()["subscribe_counts"].get(symbol, 0))

    @staticmethod
    def unsubscribes(sim: Simulator, symbol: str) -> int:
        return int(sim.stats()["unsubscribe_counts"].get(symbol, 0))


@pytest.fixture
def sim_tools() -> SimTools:
    """Managers on the real ingestors against a simulator, and its counters."""
    return SimTools()


@pytest.fixture
def unit() -> float:
    """The time unit of the real-time tests (seconds; RSDEV_TEST_TIME_SCALE scales it)."""
    return UNIT
