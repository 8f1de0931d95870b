"""The Yahoo stream client against the real simulator over loopback.

Every wait is on an event or a condition with a deadline. Durations are multiples of
`UNIT` seconds; RSDEV_TEST_TIME_SCALE stretches them all on a slow machine.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from lib_common.ingestors.yahoo.backoff import BackoffPolicy
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream import (
    DEFAULT_STREAM_URL,
    StreamConfig,
    YahooStreamClient,
)
from lib_common.ingestors.yahoo.stream_events import (
    Connected,
    Disconnected,
    Reconnecting,
    ShardClosed,
    Stalled,
    StreamStatus,
)
from lib_common.sim import Fault, SimConfig, Simulator, run_simulator
from lib_common.sim.garbage import MIXED_ORDER

SCALE = float(os.environ.get("RSDEV_TEST_TIME_SCALE", "1"))
UNIT = 0.1 * SCALE
DEADLINE = 30 * UNIT  # generous: reached only when a test is about to fail
SYMBOLS = ["AAPL", "BTC-USD", "^GSPC"]

E = TypeVar("E")


def fast_config(url: str, **overrides: Any) -> StreamConfig:
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
        quote_buffer=100_000,
        proxy=None,
    )
    return replace(config, **overrides)


class Recorder:
    """Everything a client delivered, each item with the monotonic time it was read."""

    def __init__(self) -> None:
        self.quotes: list[tuple[float, Quote]] = []
        self.events: list[tuple[float, StreamStatus]] = []
        self._changed = anyio.Event()

    async def drain_quotes(self, stream: MemoryObjectReceiveStream[Quote]) -> None:
        async for quote in stream:
            self.quotes.append((time.monotonic(), quote))
            self._changed.set()

    async def drain_status(self, stream: MemoryObjectReceiveStream[StreamStatus]) -> None:
        async for event in stream:
            self.events.append((time.monotonic(), event))
            self._changed.set()

    def symbols_since(self, t0: float) -> set[str]:
        """Symbols of the quotes read at or after monotonic time `t0`."""
        return {q.symbol for t, q in self.quotes if t >= t0}

    def of_type(self, kind: type[E]) -> list[tuple[float, E]]:
        """The status events of one type, with the times they were read."""
        return [(t, e) for t, e in self.events if isinstance(e, kind)]

    async def until(self, predicate: Callable[[], bool], limit: float = DEADLINE) -> float:
        """Wait at most `limit` s for `predicate`; return the monotonic time it held.

        Wakes on every quote and event, and every few ms for conditions on the simulator.
        """
        with anyio.fail_after(limit):
            while not predicate():
                self._changed = anyio.Event()
                with anyio.move_on_after(0.005):
                    await self._changed.wait()
        return time.monotonic()


async def eventually(predicate: Callable[[], bool], limit: float = DEADLINE) -> float:
    """Poll `predicate` every few ms (for counters that signal nothing) for at most `limit` s."""
    with anyio.fail_after(limit):
        while True:
            if predicate():
                return time.monotonic()
            await anyio.sleep(0.005)


@asynccontextmanager
async def streaming(client: YahooStreamClient) -> AsyncIterator[Recorder]:
    """Run `client` and record its quotes and events until the block exits."""
    recorder = Recorder()
    async with anyio.create_task_group() as tg, client:
        tg.start_soon(recorder.drain_quotes, client.quotes)
        tg.start_soon(recorder.drain_status, client.status)
        yield recorder


def subscribes(sim: Simulator, symbol: str) -> int:
    return int(sim.stats()["subscribe_counts"].get(symbol, 0))


def unsubscribes(sim: Simulator, symbol: str) -> int:
    return int(sim.stats()["unsubscribe_counts"].get(symbol, 0))


def connections(sim: Simulator) -> tuple[int, int]:
    """(open now, opened in total) as the simulator counts them."""
    counts = sim.stats()["connections"]
    return int(counts["current"]), int(counts["total"])


# -- subscriptions ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_quotes_for_exactly_the_subscribed_symbols_and_unsubscribe_stops_them() -> None:
    """Three symbols stream; after removing one only the other two arrive."""
    async with run_simulator(SimConfig(rate=300)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(SYMBOLS))
            client.remove(["BTC-USD"])
            await rec.until(lambda: unsubscribes(sim, "BTC-USD") == 1)
            t0 = time.monotonic()
            await rec.until(lambda: len(rec.symbols_since(t0)) == 2 and len(rec.quotes) > 60)
            late = [q for t, q in rec.quotes if t >= t0 and q.symbol == "BTC-USD"]
            assert late == []
            assert {"AAPL", "^GSPC"} == rec.symbols_since(t0)
            assert {q.symbol for _, q in rec.quotes} <= set(SYMBOLS)
            assert frozenset({"AAPL", "^GSPC"}) == client.symbols
            assert connections(sim) == (1, 1)


@pytest.mark.anyio
async def test_only_the_difference_is_sent_upstream() -> None:
    """Setting the same set again sends nothing; adding one symbol subscribes only it."""
    async with run_simulator(SimConfig(rate=50)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: all(subscribes(sim, s) == 1 for s in SYMBOLS))
            client.set_symbols(reversed(SYMBOLS))
            client.set_symbols([*SYMBOLS, "MSFT"])
            await rec.until(lambda: "MSFT" in rec.symbols_since(0))
            stats = sim.stats()
            assert stats["subscribe_counts"] == {"AAPL": 1, "BTC-USD": 1, "MSFT": 1, "^GSPC": 1}
            assert stats["control_messages"] == {"subscribe": 2, "unsubscribe": 0, "invalid": 0}
            assert client.stats().subscribe_messages == 2


@pytest.mark.anyio
async def test_quotes_are_stamped_on_receipt_by_the_injected_clock() -> None:
    """ts_library_in comes from clock_us, one reading per frame, in arrival order."""
    ticks = itertools.count(1_000_000)
    async with run_simulator(SimConfig(rate=200)) as sim:
        client = YahooStreamClient(
            fast_config(sim.ws_url), symbols=["AAPL"], clock_us=lambda: next(ticks)
        )
        async with streaming(client) as rec:
            await rec.until(lambda: len(rec.quotes) >= 10)
        stamps = [q.ts_library_in for _, q in rec.quotes]
        assert sorted(stamps) == stamps
        assert len(set(stamps)) == len(stamps)
        assert stamps[0] >= 1_000_000
        assert all(q.ts_upstream > 0 for _, q in rec.quotes)


# -- reconnects ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_abrupt_disconnect_reconnects_and_replays_every_subscription() -> None:
    """After an abrupt drop all symbols stream again on a new socket, with no user call."""
    async with run_simulator(SimConfig(rate=300)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(SYMBOLS))
            sim.inject(Fault("disconnect"))
            await rec.until(lambda: len(rec.of_type(Connected)) == 2)
            t_back = rec.of_type(Connected)[1][0]
            await rec.until(lambda: rec.symbols_since(t_back) == set(SYMBOLS))
            kinds = [type(e) for _, e in rec.events]
            assert [Connected, Disconnected, Reconnecting, Connected] == kinds
            (_, dropped), (_, again) = rec.of_type(Disconnected)[0], rec.of_type(Reconnecting)[0]
            assert dropped.code is None  # no close frame: 1006
            assert again.attempt == 1
            assert "connection closed" in again.last_error
            assert all(subscribes(sim, s) == 2 for s in SYMBOLS)
            assert connections(sim) == (1, 2)
            assert client.stats().reconnects == 1


@pytest.mark.anyio
async def test_stall_is_detected_within_the_timeout_and_recovered() -> None:
    """A silent connection is declared stalled after inactivity_timeout, then replaced."""
    timeout = 3 * UNIT
    async with run_simulator(SimConfig(rate=100)) as sim:
        config = fast_config(sim.ws_url, inactivity_timeout=timeout)
        client = YahooStreamClient(config, symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(SYMBOLS))
            t_fault = time.monotonic()
            sim.inject(Fault("stall"))
            await rec.until(lambda: bool(rec.of_type(Stalled)))
            t_stall, stalled = rec.of_type(Stalled)[0]
            assert t_stall - t_fault <= timeout + 2 * UNIT
            assert stalled.silent_for >= timeout
            await rec.until(lambda: connections(sim)[1] >= 2)
            sim.clear_faults()
            t_clear = time.monotonic()
            await rec.until(lambda: rec.symbols_since(t_clear) == set(SYMBOLS))
            last_connect = rec.of_type(Connected)[-1][0]
            assert last_connect > t_stall  # quotes flow on a new socket
            assert client.stats().stalls >= 1


@pytest.mark.anyio
async def test_closed_market_silence_does_not_reconnect() -> None:
    """With is_trading False a silent socket is kept; once True, the stall is caught."""
    trading = False

    def is_trading(symbol: str, now: datetime) -> bool:
        assert now.tzinfo is not None
        return trading

    async with run_simulator(SimConfig(rate=100)) as sim:
        sim.inject(Fault("stall"))  # nothing at all, not even snapshots
        config = fast_config(sim.ws_url, inactivity_timeout=UNIT)
        client = YahooStreamClient(config, symbols=SYMBOLS, is_trading=is_trading)
        async with streaming(client) as rec:
            await rec.until(lambda: client.stats().excused_silences >= 4)
            stats = client.stats()
            assert (stats.stalls, stats.connects, stats.reconnects) == (0, 1, 0)
            assert connections(sim) == (1, 1)
            assert [Connected] == [type(e) for _, e in rec.events]
            trading = True
            await rec.until(lambda: bool(rec.of_type(Stalled)))
            assert client.stats().stalls == 1


@pytest.mark.anyio
async def test_stall_is_decided_on_the_injected_monotonic_clock() -> None:
    """The watchdog measures silence on `monotonic` and waits with `sleep`: a 60 s timeout
    is reached after exactly 60 virtual seconds, at once in real time."""
    now = [1000.0]
    client: YahooStreamClient

    async def virtual_sleep(delay: float) -> None:
        if client.stats().stalls:
            await anyio.sleep_forever()  # one stall is the test; no reconnect loop after it
        now[0] += delay
        await anyio.lowlevel.checkpoint()

    async with run_simulator(SimConfig(rate=100)) as sim:
        sim.inject(Fault("stall"))  # connected, and silent from the start
        config = fast_config(sim.ws_url, inactivity_timeout=60.0)
        client = YahooStreamClient(
            config, symbols=SYMBOLS, monotonic=lambda: now[0], sleep=virtual_sleep
        )
        async with streaming(client) as rec:
            await rec.until(lambda: bool(rec.of_type(Stalled)))
    _, stalled = rec.of_type(Stalled)[0]
    assert 60.0 == stalled.silent_for
    assert 1060.0 == now[0]


@pytest.mark.anyio
async def test_normal_close_redials_with_capped_full_jitter_and_never_busy_loops() -> None:
    """Every connection closed with 1000 at once: delays follow the policy, attempts bounded.

    The sleep is injected: it only adds the delay to a virtual clock, and blocks once 30
    virtual seconds have passed; the number of connections made by then is the bound.
    """
    delays: list[float] = []
    budget_spent = anyio.Event()

    async def virtual_sleep(delay: float) -> None:
        delays.append(delay)
        if sum(delays) >= 30.0:
            budget_spent.set()
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()

    policy = BackoffPolicy(base=1.0, cap=8.0, floor=0.1, healthy_after=60.0)
    async with run_simulator(SimConfig(rate=100)) as sim:
        sim.inject(Fault("close", code=1000, duration=600))
        config = fast_config(sim.ws_url, backoff=policy)
        client = YahooStreamClient(config, symbols=SYMBOLS, rng=lambda: 0.5, sleep=virtual_sleep)
        async with streaming(client) as rec:
            with anyio.fail_after(DEADLINE):
                await budget_spent.wait()
            await rec.until(lambda: len(rec.of_type(Reconnecting)) == len(delays))
            # 0.5 + 1 + 2 + 4 * 7 = 31.5 >= 30: ten connections in 30 virtual seconds.
            assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]
            assert list(range(1, 11)) == [e.attempt for _, e in rec.of_type(Reconnecting)]
            assert {1000} == {e.code for _, e in rec.of_type(Disconnected)}
            assert connections(sim)[1] == 10


@pytest.mark.anyio
async def test_refused_connections_are_retried_with_growing_attempts() -> None:
    """Nothing listening: each failed dial is a Reconnecting event with the error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = YahooStreamClient(fast_config(f"ws://127.0.0.1:{port}/?version=2"), symbols=["A"])
    async with streaming(client) as rec:
        await rec.until(lambda: len(rec.of_type(Reconnecting)) >= 3)
        attempts = [e.attempt for _, e in rec.of_type(Reconnecting)][:3]
        assert attempts == [1, 2, 3]
        assert all("connect failed" in e.last_error for _, e in rec.of_type(Reconnecting))
        assert not rec.of_type(Connected)
        stats = client.stats()
        assert stats.connect_failures >= 3
        assert stats.connections == 0


# -- shards and idle -------------------------------------------------------------------


@pytest.mark.anyio
async def test_120_symbols_with_cap_100_flow_over_two_connections() -> None:
    """Symbols beyond the cap open a second socket, and every symbol streams."""
    wanted = [f"T{i:03d}" for i in range(120)]
    async with run_simulator(SimConfig(rate=600, symbol_cap=100)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=wanted)
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(wanted))
            assert connections(sim) == (2, 2)
            assert client.stats().connections == 2
            assert {
                shard: sum(client.shard_of(s) == shard for s in wanted) for shard in (0, 1)
            } == {0: 100, 1: 20}
            assert len(sim.stats()["subscribed"]) == 120


@pytest.mark.anyio
async def test_no_symbols_means_no_connection() -> None:
    """An idle client holds no socket; dropping to zero symbols closes it after the grace."""
    async with run_simulator(SimConfig(rate=100)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url))
        async with streaming(client) as rec:
            assert (client.stats().shards, *connections(sim)) == (0, 0, 0)
            client.add(["AAPL"])
            await rec.until(lambda: bool(rec.quotes))
            client.set_symbols([])
            await rec.until(lambda: bool(rec.of_type(ShardClosed)))
            await rec.until(lambda: connections(sim) == (0, 1))
            assert ShardClosed(0, "idle") == rec.of_type(ShardClosed)[0][1]
            assert unsubscribes(sim, "AAPL") == 1
            assert (client.stats().shards, client.stats().connections) == (0, 0)
            assert [e.code for _, e in rec.of_type(Disconnected)] == [1000]
            client.add(["MSFT"])  # back to work: a fresh shard and socket
            await rec.until(lambda: "MSFT" in rec.symbols_since(0))
            assert rec.of_type(Connected)[-1][1].shard == 1


# -- heartbeats, garbage, backpressure, shutdown ---------------------------------------


@pytest.mark.anyio
async def test_heartbeat_resends_the_whole_list_at_the_interval() -> None:
    """With a 2-unit interval the subscribe counts grow, no faster than configured."""
    interval = 2 * UNIT
    async with run_simulator(SimConfig(rate=20)) as sim:
        config = fast_config(sim.ws_url, heartbeat_interval=interval)
        client = YahooStreamClient(config, symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: subscribes(sim, "AAPL") == 1)
            t_connected = rec.of_type(Connected)[0][0]  # read before the writer starts
            t3 = await rec.until(lambda: subscribes(sim, "AAPL") == 4)
            assert t3 - t_connected >= 3 * interval - 0.02
            assert all(subscribes(sim, s) >= 4 for s in SYMBOLS)
            assert client.stats().heartbeats >= 3
            assert connections(sim) == (1, 1)


@pytest.mark.anyio
async def test_garbage_frames_are_counted_and_every_valid_quote_arrives() -> None:
    """10,000 malformed frames interleaved with valid ones: all quotes delivered, none leaks."""
    count = 10_000
    async with run_simulator(SimConfig(rate=20_000)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(SYMBOLS))
            sim.inject(Fault("garbage", count=count, variant="mixed"))
            await rec.until(lambda: sim.stats()["frames"]["garbage"] == count, 100 * UNIT)
            sim.inject(Fault("stall"))  # freeze the pump so both sides can be counted
            frames = sim.stats()["frames"]
            sent = frames["valid"] + frames["garbage"]
            await rec.until(lambda: client.stats().frames == sent)
            stats = client.stats()
    variants = [MIXED_ORDER[i % len(MIXED_ORDER)] for i in range(count)]
    decodable = sum(v in ("unknown_fields", "unknown_enum") for v in variants)
    assert count - decodable == stats.decode_errors_total
    assert frames["valid"] + decodable == stats.quotes + stats.unwanted
    assert stats.unwanted == 0
    assert stats.quotes == len(rec.quotes)
    assert {q.symbol for _, q in rec.quotes} == set(SYMBOLS)
    assert {"bad_json", "bad_base64", "bad_protobuf", "binary_frame"} == {
        v for v in variants if v not in ("unknown_fields", "unknown_enum")
    }
    assert {"json", "base64", "protobuf"} <= set(stats.decode_errors)
    assert rec.of_type(Reconnecting) == []  # garbage never costs the connection


@pytest.mark.anyio
async def test_a_slow_consumer_gets_backpressure_not_a_stall() -> None:
    """While the consumer does not read, the reader waits; that waiting is not silence."""
    timeout = 2 * UNIT
    async with run_simulator(SimConfig(rate=200)) as sim:
        config = fast_config(sim.ws_url, inactivity_timeout=timeout, quote_buffer=4)
        client = YahooStreamClient(config, symbols=SYMBOLS)
        async with client:
            await eventually(lambda: client.stats().quote_waits > 0)
            start = sim.stats()["quotes_generated"]
            # Three timeouts' worth of quotes pile up unread.
            await eventually(lambda: sim.stats()["quotes_generated"] >= start + 600 * timeout)
            assert client.stats().stalls == 0
            received = [client.quotes.receive_nowait() for _ in range(4)]
            assert {q.symbol for q in received} <= set(SYMBOLS)
            assert client.stats().connects == 1


@pytest.mark.anyio
async def test_shutdown_closes_every_socket_and_ends_both_streams() -> None:
    """Leaving the client's block closes all sockets politely and ends quotes and status."""
    wanted = [f"T{i:03d}" for i in range(5)]
    async with run_simulator(SimConfig(rate=1_000, symbol_cap=2)) as sim:
        config = fast_config(sim.ws_url, max_symbols_per_connection=2)
        client = YahooStreamClient(config, symbols=wanted)
        t0 = time.monotonic()
        async with streaming(client) as rec:
            await rec.until(lambda: rec.symbols_since(0) == set(wanted))
            assert connections(sim) == (3, 3)
        # streaming() returns only once both streams have ended.
        assert time.monotonic() - t0 < DEADLINE
        assert {ShardClosed(i, "shutdown") for i in range(3)} == {
            e for _, e in rec.of_type(ShardClosed)
        }
        await eventually(lambda: connections(sim)[0] == 0)
        assert client.stats().connections == 0
        with pytest.raises(RuntimeError):
            client.add(["AAPL"])
        assert "AAPL" not in client.symbols


@pytest.mark.anyio
async def test_unread_status_events_drop_the_oldest() -> None:
    """With nobody reading status, the newest events are kept and drops are counted."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = fast_config(f"ws://127.0.0.1:{port}/", status_buffer=2)
    async with YahooStreamClient(config, symbols=["A"]) as client:
        await eventually(lambda: client.stats().reconnects >= 5)
        reconnects = client.stats().reconnects
        kept = [client.status.receive_nowait(), client.status.receive_nowait()]
    assert all(isinstance(e, Reconnecting) for e in kept)
    assert [e.attempt for e in kept if isinstance(e, Reconnecting)][-1] >= reconnects - 1
    assert client.stats().status_dropped >= 3


def test_default_url_is_yahoo_and_configs_are_checked() -> None:
    """The default is Yahoo's v2 streamer; bad URLs and numbers are refused early."""
    assert DEFAULT_STREAM_URL == "wss://streamer.finance.yahoo.com/?version=2"
    assert StreamConfig().secure
    with pytest.raises(ValueError):
        StreamConfig(url="http://127.0.0.1/")
    with pytest.raises(ValueError):
        StreamConfig(url="ws://127.0.0.1/", max_symbols_per_connection=0)
    with pytest.raises(ValueError):
        StreamConfig(url="ws://127.0.0.1/", inactivity_timeout=-1)


# -- direct delivery (deliver_quotes_to) -------------------------------------------------


@pytest.mark.anyio
async def test_direct_delivery_hands_every_wanted_quote_to_the_sink_in_order() -> None:
    """With a sink attached, quotes reach it (in each symbol's order) and the
    `quotes` stream stays empty; unwanted and garbage frames are counted, not delivered."""
    count = 2_000
    async with run_simulator(SimConfig(rate=5_000)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        taken: list[Quote] = []
        client.deliver_quotes_to(taken.append)
        async with client:
            await eventually(lambda: {q.symbol for q in taken} == set(SYMBOLS))
            sim.inject(Fault("garbage", count=count, variant="mixed"))
            await eventually(lambda: sim.stats()["frames"]["garbage"] == count, 100 * UNIT)
            sim.inject(Fault("stall"))
            frames = sim.stats()["frames"]
            await eventually(lambda: client.stats().frames == frames["valid"] + count)
            stats = client.stats()
            with pytest.raises(anyio.WouldBlock):
                client.quotes.receive_nowait()
    assert stats.quotes == len(taken)
    assert stats.decode_errors_total > 0
    assert {q.symbol for q in taken} == set(SYMBOLS)
    for symbol in SYMBOLS:  # the upstream's own times never go backwards
        times = [q.ts_upstream for q in taken if q.symbol == symbol]
        assert times == sorted(times)


@pytest.mark.anyio
async def test_a_failing_sink_stops_the_client_with_its_error() -> None:
    """What the sink raises is not swallowed by the socket's callback: `run` fails with it."""

    def broken(quote: Quote) -> None:
        raise ValueError(f"consumer bug on {quote.symbol}")

    async with run_simulator(SimConfig(rate=300)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url), symbols=SYMBOLS)
        client.deliver_quotes_to(broken)
        with anyio.fail_after(DEADLINE), pytest.raises(BaseExceptionGroup) as failed:
            await client.run()
    assert failed.group_contains(ValueError, match="consumer bug on ")


@pytest.mark.anyio
async def test_the_sink_must_be_attached_before_the_client_runs() -> None:
    """Attaching a sink to a running client is refused: quotes already went to `quotes`."""
    async with run_simulator(SimConfig(rate=0)) as sim:
        client = YahooStreamClient(fast_config(sim.ws_url))
        async with client:
            with pytest.raises(RuntimeError, match="before the client runs"):
                client.deliver_quotes_to(lambda quote: None)
