"""Dispatcher: encode once, one write per client per flush, conflation, eviction."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from lib_common.core.dispatcher import (
    CLOSE_MEMORY_PRESSURE,
    CLOSE_SLOW_CONSUMER,
    Dispatcher,
)
from lib_common.core.memory_guard import EvictionReason, MemoryGuard, Priority, Victim
from lib_common.core.registry import SymbolRegistry
from lib_common.ingestors.yahoo.quote import Quote


def ws_text_frame(payload: bytes) -> bytes:
    """A real unmasked WebSocket text frame, built by the websockets library."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class RecordingSink:
    """A FrameSink that records every call. `drains=False` makes written bytes stay
    buffered, like a peer that stopped reading."""

    def __init__(self, *, drains: bool = True) -> None:
        self.drains = drains
        self.writes: list[list[bytes]] = []
        self.buffered = 0
        self.close_args: tuple[int, str] | None = None
        self.aborted = False

    @property
    def closed(self) -> bool:
        return self.close_args is not None or self.aborted

    def write_frames(self, frames: Sequence[bytes]) -> None:
        assert not self.closed, "write after close"
        self.writes.append(list(frames))
        if not self.drains:
            self.buffered += sum(len(f) for f in frames)

    def buffered_bytes(self) -> int:
        return self.buffered

    def close(self, code: int, reason: str) -> None:
        self.close_args = (code, reason)

    def abort(self) -> None:
        self.aborted = True

    @property
    def frames(self) -> list[bytes]:
        """Every frame written, in order."""
        return [f for batch in self.writes for f in batch]


def quote(symbol: str = "AAPL", price: float = 100.0) -> Quote:
    return Quote(symbol=symbol, price=price, ts_upstream=1_000_000, ts_library_in=1_000_100)


def payload(frame: bytes) -> Any:
    """Decode one server→client frame back to its JSON message, with websockets' parser."""
    reader = StreamReader()
    reader.feed_data(frame)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        parsed: Frame = done.value
    else:
        raise AssertionError("incomplete frame")
    assert not reader.buffer, "exactly one frame"
    return json.loads(bytes(parsed.data))


class Harness:
    """A registry + dispatcher with recording sinks, flushed by hand."""

    def __init__(self, *, clock: Callable[[], int] | None = None, **kwargs: object) -> None:
        self.registry = SymbolRegistry[str]()
        self.evicted: list[Victim[str]] = []
        ticks = itertools.count(1_700_000_000_000_000)
        self.dispatcher = Dispatcher[str](
            self.registry,
            frame_builder=ws_text_frame,
            clock_us=clock or (lambda: next(ticks)),
            on_evict=self.evicted.append,
            **kwargs,  # type: ignore[arg-type]
        )
        self.sinks: dict[str, RecordingSink] = {}

    def connect(
        self,
        name: str,
        *symbols: str,
        priority: Priority = Priority.NORMAL,
        conflate: bool = False,
        drains: bool = True,
    ) -> RecordingSink:
        sink = self.sinks[name] = RecordingSink(drains=drains)
        self.dispatcher.add_client(name, sink, priority=priority, conflate=conflate)
        self.registry.subscribe(name, symbols, 0.0)
        return sink


def test_one_encode_per_message_for_100_clients() -> None:
    """A quote is encoded once however many clients receive it."""
    h = Harness()
    for i in range(100):
        h.connect(f"c{i}", "AAPL")
    assert h.dispatcher.publish_quote(quote()) == 100
    stats = h.dispatcher.stats()
    assert (stats.encodes, stats.deliveries) == (1, 100)
    h.dispatcher.flush()
    assert h.dispatcher.stats().writes == 100


def test_every_subscriber_gets_the_same_bytes_object() -> None:
    """All recipients share one immutable frame: identity, not just equality."""
    h = Harness()
    sinks = [h.connect(f"c{i}", "AAPL") for i in range(5)]
    h.dispatcher.publish_quote(quote())
    h.dispatcher.flush()
    first = sinks[0].frames[0]
    assert isinstance(first, bytes)
    assert all(sink.frames[0] is first for sink in sinks)


def test_one_write_per_client_per_flush_with_all_pending_frames_in_order() -> None:
    """Frames queued in one iteration leave in a single write, in publish order."""
    h = Harness()
    sink = h.connect("a", "AAPL", "MSFT")
    for price in (1.0, 2.0, 3.0):
        h.dispatcher.publish_quote(quote("AAPL", price))
        h.dispatcher.publish_quote(quote("MSFT", price))
    result = h.dispatcher.flush()
    assert (result.writes, result.frames) == (1, 6)
    assert len(sink.writes) == 1
    assert [(m["symbol"], m["price"]) for m in map(payload, sink.frames)] == [
        ("AAPL", 1.0),
        ("MSFT", 1.0),
        ("AAPL", 2.0),
        ("MSFT", 2.0),
        ("AAPL", 3.0),
        ("MSFT", 3.0),
    ]
    assert (h.dispatcher.flush().writes, len(sink.writes) - 1) == (0, 0)


def test_non_subscribers_get_nothing_and_unwatched_quotes_are_not_encoded() -> None:
    """Only subscribers receive a quote; a quote nobody wants costs no encode."""
    h = Harness()
    aapl = h.connect("a", "AAPL")
    msft = h.connect("m", "MSFT")
    h.dispatcher.publish_quote(quote("AAPL"))
    assert h.dispatcher.publish_quote(quote("TSLA")) == 0
    h.dispatcher.flush()
    assert len(aapl.frames) == 1
    assert msft.writes == []
    assert h.dispatcher.stats().encodes == 1


def test_ts_library_out_comes_from_the_injected_clock() -> None:
    """The quote is stamped with the clock's µs value at encode time."""
    h = Harness(clock=lambda: 1_761_785_160_123_999)
    sink = h.connect("a", "AAPL")
    h.dispatcher.publish_quote(quote())
    h.dispatcher.flush()
    message = payload(sink.frames[0])
    assert message["ts_library_out"] == 1_761_785_160_123_999
    assert (message["ts_upstream"], message["ts_library_in"]) == (1_000_000, 1_000_100)


def test_conflation_keeps_the_latest_frame_per_symbol_in_first_arrival_order() -> None:
    """A conflating client gets one frame per symbol: the newest, where it first arrived."""
    h = Harness()
    sink = h.connect("c", "AAPL", "MSFT", conflate=True)
    full = h.connect("f", "AAPL", "MSFT")
    h.dispatcher.publish_quote(quote("AAPL", 1.0))
    h.dispatcher.publish_quote(quote("MSFT", 1.0))
    status = h.dispatcher.encode(b'{"type":"status","mode":"streaming"}')
    h.dispatcher.broadcast(status)
    h.dispatcher.publish_quote(quote("AAPL", 2.0))
    h.dispatcher.flush()
    assert [
        (m["symbol"], m["price"]) for m in map(payload, sink.frames) if m["type"] == "quote"
    ] == [("AAPL", 2.0), ("MSFT", 1.0)]
    assert status in sink.frames
    assert len(full.frames) == 4
    assert h.dispatcher.stats().conflated == 1


def test_conflating_client_is_held_while_its_transport_lags() -> None:
    """Above the lag threshold nothing is written; frames keep conflating until drained."""
    h = Harness(lag_threshold=1000)
    sink = h.connect("c", "AAPL", conflate=True)
    sink.buffered = 5000  # the peer is not reading
    for price in (1.0, 2.0, 3.0):
        h.dispatcher.publish_quote(quote("AAPL", price))
        assert h.dispatcher.flush().held == 1
    assert sink.writes == []
    assert h.dispatcher.pending_frames("c") == 1
    sink.buffered = 0
    h.dispatcher.notify_drained("c")
    h.dispatcher.flush()
    assert [payload(f)["price"] for f in sink.frames] == [3.0]


def test_send_is_ordered_with_quotes_and_broadcast_reaches_everyone() -> None:
    """Per-client frames keep their place in the queue; broadcast goes to all clients."""
    h = Harness()
    a = h.connect("a", "AAPL")
    b = h.connect("b")
    pong = h.dispatcher.encode(b'{"type":"pong","id":1}')
    h.dispatcher.publish_quote(quote())
    assert h.dispatcher.send("a", pong)
    assert not h.dispatcher.send("nobody", pong)
    assert h.dispatcher.broadcast(h.dispatcher.encode(b'{"type":"status"}')) == 2
    h.dispatcher.flush()
    assert [payload(f)["type"] for f in a.frames] == ["quote", "pong", "status"]
    assert [payload(f)["type"] for f in b.frames] == ["status"]


def order_recorder(order: list[str], name: str) -> Callable[[Sequence[bytes]], None]:
    def write_frames(frames: Sequence[bytes]) -> None:
        order.append(name)

    return write_frames


def test_high_priority_clients_are_written_first() -> None:
    """Within a flush, high-priority clients get their write before the others."""
    order: list[str] = []
    h = Harness()
    for name, priority in (
        ("low", Priority.LOW),
        ("normal", Priority.NORMAL),
        ("high", Priority.HIGH),
    ):
        sink = h.connect(name, "AAPL", priority=priority)
        sink.write_frames = order_recorder(order, name)  # type: ignore[method-assign,assignment]
    h.dispatcher.publish_quote(quote())
    h.dispatcher.flush()
    assert order == ["high", "normal", "low"]


def test_over_cap_client_gets_final_frame_then_close_1008() -> None:
    """A client past its cap is sent the slow_consumer error, then closed 1008."""
    h = Harness(guard=MemoryGuard[str](budget=1 << 20, client_cap=1000))
    slow = h.connect("slow", "AAPL", drains=False)
    fast = h.connect("fast", "AAPL")
    for price in range(20):
        h.dispatcher.publish_quote(quote(price=float(price)))
        h.dispatcher.flush()
    assert [v.client for v in h.evicted] == ["slow"]
    assert h.evicted[0].reason == EvictionReason.SLOW_CONSUMER
    final = payload(slow.writes[-1][0])
    assert (
        final["type"],
        final["code"],
        final["reason"],
    ) == ("error", "slow_consumer", "slow_consumer")
    assert slow.close_args == (CLOSE_SLOW_CONSUMER, "slow consumer")
    assert len(fast.frames) == 20
    assert "slow" not in h.dispatcher
    assert h.dispatcher.stats().evictions == {"slow_consumer": 1, "memory_pressure": 0}


def test_final_frames_none_closes_evicted_clients_without_a_frame() -> None:
    """final_frames=None (a Yahoo-protocol gateway): the slow client gets no JSON error,
    only the close 1008; what it had already received is all quotes."""
    h = Harness(guard=MemoryGuard[str](budget=1 << 20, client_cap=1000), final_frames=None)
    slow = h.connect("slow", "AAPL", drains=False)
    for price in range(20):
        h.dispatcher.publish_quote(quote(price=float(price)))
        h.dispatcher.flush()
    assert ["slow"] == [v.client for v in h.evicted]
    assert (CLOSE_SLOW_CONSUMER, "slow consumer") == slow.close_args
    assert all("quote" == payload(frame)["type"] for frame in slow.frames)


def test_final_frames_per_reason() -> None:
    """A mapping picks the final frame per eviction reason; a reason it leaves out (or
    maps to None) gets the close alone."""
    farewell = ws_text_frame(b"bye")
    h = Harness(
        guard=MemoryGuard[str](budget=1 << 20, client_cap=1000),
        final_frames={EvictionReason.SLOW_CONSUMER: farewell},
    )
    slow = h.connect("slow", "AAPL", drains=False)
    for price in range(20):
        h.dispatcher.publish_quote(quote(price=float(price)))
        h.dispatcher.flush()
    assert farewell == slow.writes[-1][-1]
    assert (CLOSE_SLOW_CONSUMER, "slow consumer") == slow.close_args


def test_memory_pressure_evicts_low_priority_and_most_lagging_first() -> None:
    """Over the global budget, low-priority clients go first, the most lagging first,
    until under the low-water mark; each is closed 1013."""
    guard = MemoryGuard[str](budget=10_000, low_water=8_000, client_cap=100_000)
    h = Harness(guard=guard)
    lag = {"high-lag": 5000, "normal-mid": 2000, "low-small": 1000, "low-lag": 3000}
    for name, buffered in lag.items():
        priority = Priority[name.split("-")[0].upper()]
        h.connect(name, "AAPL", priority=priority, drains=False).buffered = buffered
    h.connect("fine", "AAPL", priority=Priority.LOW)
    h.dispatcher.publish_quote(quote())
    result = h.dispatcher.flush()  # 11 000 + 4 frames > 10 000
    assert [v.client for v in result.evicted] == ["low-lag", "low-small"]
    assert {v.reason for v in result.evicted} == {EvictionReason.MEMORY_PRESSURE}
    code, reason = h.sinks["low-lag"].close_args or (0, "")
    assert code == CLOSE_MEMORY_PRESSURE
    assert reason == "slow consumer: server memory pressure"
    assert guard.total <= guard.low_water
    assert h.sinks["high-lag"].close_args is None
    assert h.sinks["fine"].close_args is None


def test_a_burst_the_transport_absorbs_is_not_held_against_the_client() -> None:
    """Pending bytes past the cap that the socket takes at once are no reason to evict:
    the client is judged after its write."""
    h = Harness(guard=MemoryGuard[str](client_cap=500))
    sink = h.connect("a", "AAPL")
    for _ in range(10):
        h.dispatcher.publish_quote(quote())
    assert h.dispatcher.flush().evicted == ()
    assert [10] == [len(batch) for batch in sink.writes]
    assert h.dispatcher.guard.total == 0


def test_lagging_client_evicted_in_a_flush_is_aborted_without_its_backlog() -> None:
    """A client whose transport lags is judged before its write; evicted, its pending
    frames are dropped, not copied, and it is aborted at once: a final frame would wait
    behind the backlog, which would stay allocated until the close handshake timed out."""
    h = Harness(guard=MemoryGuard[str](client_cap=100_500))
    sink = h.connect("a", "AAPL", drains=False)
    sink.buffered = 100_000  # the peer stopped reading
    for _ in range(10):
        h.dispatcher.publish_quote(quote())
    assert ["a"] == [v.client for v in h.dispatcher.flush().evicted]
    assert [] == sink.writes
    assert sink.aborted
    assert sink.close_args is None
    assert 10 == h.dispatcher.stats().dropped_frames


def test_a_burst_over_the_budget_evicts_only_the_client_that_does_not_read() -> None:
    """One iteration queues more than the budget for everyone: the reader, whose socket
    takes it, keeps every frame; the client that does not read is evicted."""
    guard = MemoryGuard[str](budget=200_000, low_water=150_000, client_cap=10**9)
    h = Harness(guard=guard)
    reader = h.connect("reader", "AAPL")
    stuck = h.connect("stuck", "AAPL", drains=False)
    stuck.buffered = 70_000  # over the 64 KiB lag threshold
    for price in range(1200):
        h.dispatcher.publish_quote(quote(price=float(price)))
    queued = sum(map(len, h.dispatcher._clients["reader"].frames))
    assert queued > guard.low_water  # judged on what is queued, it would go too
    result = h.dispatcher.flush()
    assert ["stuck"] == [v.client for v in result.evicted]
    assert 1200 == len(reader.frames)
    assert ([], True) == (stuck.writes, stuck.aborted)
    assert 0 == guard.total


def test_closed_sinks_are_skipped_and_broken_sinks_removed() -> None:
    """A closed sink gets no write; a sink whose write raises is aborted and dropped."""
    h = Harness()
    closed = h.connect("closed", "AAPL")
    closed.close(1000, "bye")
    broken = h.connect("broken", "AAPL")

    def explode(frames: object) -> None:
        raise ConnectionResetError

    broken.write_frames = explode  # type: ignore[method-assign]
    ok = h.connect("ok", "AAPL")
    h.dispatcher.publish_quote(quote())
    h.dispatcher.flush()
    assert closed.writes == []
    assert broken.aborted
    assert "broken" not in h.dispatcher
    assert len(ok.frames) == 1
    assert h.dispatcher.stats().write_errors == 1


def test_guard_follows_flush_and_drain() -> None:
    """A written frame counts as the transport's figure; a lagging client's frames are
    held (not copied into its transport) and count as pending; a drain writes them."""
    guard = MemoryGuard[str](budget=10**9, client_cap=10**9)
    h = Harness(guard=guard)
    sink = h.connect("a", "AAPL", drains=False)
    h.dispatcher.publish_quote(quote())
    size = len(h.dispatcher._clients["a"].frames[0])
    h.dispatcher.flush()
    assert size == guard.usage("a") == sink.buffered
    sink.buffered = 100_000  # past the lag threshold: the next frames wait
    h.dispatcher.publish_quote(quote())
    h.dispatcher.publish_quote(quote())
    assert 1 == h.dispatcher.flush().held
    assert (100_000, 1) == (sink.buffered, len(sink.writes))
    assert 100_000 + 2 * size == guard.usage("a")
    assert ("a",) == h.dispatcher.held_clients()
    sink.buffered = 0  # the peer read everything
    h.dispatcher.notify_drained("a")
    assert 2 == h.dispatcher.flush().frames
    assert 2 * size == sink.buffered == guard.usage("a")
    assert () == h.dispatcher.held_clients()
    sink.buffered = 0
    h.dispatcher.notify_drained("a")
    assert 0 == guard.total


def test_a_lagging_clients_backlog_counts_against_its_cap() -> None:
    """The frames queued for a lagging client count towards its cap before they are
    written: past the cap it is evicted with them unwritten."""
    h = Harness(guard=MemoryGuard[str](budget=10**9, client_cap=100_000 + 5_000))
    sink = h.connect("a", "AAPL", drains=False)
    sink.buffered = 100_000
    for price in range(100):  # ~100 bytes each: past the cap only with the backlog
        h.dispatcher.publish_quote(quote(price=float(price)))
    assert ["a"] == [v.client for v in h.dispatcher.flush().evicted]
    assert [] == sink.writes


def test_remove_client_forgets_pending_frames_and_bytes() -> None:
    """A disconnected client's queue and bytes are released at once."""
    h = Harness()
    h.connect("a", "AAPL")
    h.dispatcher.publish_quote(quote())
    h.dispatcher.remove_client("a")
    assert h.dispatcher.guard.total == 0
    assert h.dispatcher.flush().writes == 0
    h.dispatcher.add_client("b", RecordingSink())
    with pytest.raises(ValueError):
        h.dispatcher.add_client("b", RecordingSink())


def test_explicit_scheduler_is_called_once_per_batch() -> None:
    """Many publishes before a flush schedule exactly one callback."""
    scheduled: list[object] = []
    h = Harness(call_soon=scheduled.append)
    h.connect("a", "AAPL")
    h.connect("b", "AAPL")
    for _ in range(5):
        h.dispatcher.publish_quote(quote())
    assert [h.dispatcher.flush] == scheduled
    h.dispatcher.flush()
    h.dispatcher.publish_quote(quote())
    assert len(scheduled) == 2


@pytest.mark.anyio
async def test_publish_in_a_coroutine_flushes_once_per_loop_iteration() -> None:
    """On a real loop, a burst of publishes yields one flush and one write per client."""
    h = Harness()
    sinks = [h.connect(f"c{i}", "AAPL") for i in range(3)]
    for price in range(10):
        h.dispatcher.publish_quote(quote(price=float(price)))
    assert h.dispatcher.stats().flushes == 0
    await asyncio.sleep(0)  # one loop iteration: the scheduled flush runs
    stats = h.dispatcher.stats()
    assert (stats.flushes, stats.writes, stats.frames_written) == (1, 3, 30)
    assert all(len(s.writes) == 1 and len(s.frames) == 10 for s in sinks)
    h.dispatcher.publish_quote(quote(price=99.0))
    await asyncio.sleep(0)
    assert (h.dispatcher.stats().flushes, h.dispatcher.stats().writes) == (2, 6)


def test_default_frame_builder_is_the_net_one() -> None:
    """Without an injected builder, frames come from lib_common.net.text_frame."""
    from lib_common.net import text_frame

    dispatcher = Dispatcher[str](SymbolRegistry[str]())
    assert dispatcher.encode(b'{"a":1}') == text_frame(b'{"a":1}')
