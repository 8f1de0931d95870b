"""The fan-out: encode each message once, queue the same frame for every subscriber, and
write each client's queue in one call per event-loop iteration.

Bookkeeping is plain method calls (`publish`, `flush`, …) so tests drive it without a
loop; the only asyncio contact is `loop.call_soon(self.flush)`, scheduled once per
iteration however many clients are dirty (adaptive batching: at idle a frame leaves on
the next iteration; under load many frames share one write).

Per client:

- **Outbox.** `conflate=False`: a list of frames, all written in order.
  `conflate=True`: at most one frame per symbol — a newer frame replaces the pending one
  in the position where that symbol first arrived; frames that belong to no symbol
  (status, errors, pongs) are all kept in order. While the client's transport holds more
  than `lag_threshold` bytes, its outbox is *held* (not written): a conflating one keeps
  conflating, the other keeps every frame — as references to the frames every
  subscriber shares, not as copies in the transport's buffer. It is written when a later
  flush finds the transport drained. The I/O layer calls `notify_drained(client)` for
  the `held_clients()` whose transport drained, so held frames do not wait for the next
  message.
- **Priority.** `Priority.HIGH` clients are written first in each flush, and are the
  last evicted (see `MemoryGuard`).

Memory guard: the books are kept per flush, not per enqueue (the fan-out loop only
appends a shared `bytes` to a list: a queued frame costs a pointer until it is written).
Each flush writes the clients whose transport keeps up (at most `lag_threshold` bytes
unsent) first and then reports their transports' figures, so a burst that a reader's
socket takes at once is never held against it; clients whose transport lags have their
pending bytes and transport figure reported and are judged, and held (a victim's
backlog is dropped, never copied into its transport). When a client passes its cap,
or the total passes the budget, the victims get one final error frame
(`{"type":"error","code":"slow_consumer",…}`, restream's protocol; `final_frames` sets
another frame per reason, or none: a Yahoo-protocol client could not read that JSON) and
a close — unless a victim's transport still holds more than `lag_threshold` bytes: that
one is aborted at once (its peer sees 1006), since a final frame would wait behind the
backlog until the close handshake timed out, with the backlog's memory held meanwhile:

- `1008` (policy violation), reason `"slow consumer"`: the client itself exceeded the
  per-client cap (it reads too slowly for its subscriptions).
- `1013` (try again later), reason `"slow consumer: server memory pressure"`: the client
  was picked to bring the global total back under the low-water mark.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from lib_common.core.memory_guard import EvictionReason, MemoryGuard, Priority, Victim
from lib_common.core.messages import encode_error_message, encode_quote_message
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.net.sink import FrameSink
from lib_common.timeutil import wall_clock_us

ClientT = TypeVar("ClientT", bound=Hashable)
ClientT_co = TypeVar("ClientT_co", bound=Hashable, covariant=True)

FrameBuilder = Callable[[bytes], bytes]
"""Builds one complete unmasked WebSocket text frame from a UTF-8 payload."""

Scheduler = Callable[[Callable[[], object]], object]
"""`loop.call_soon`-shaped: run the callback on the next loop iteration."""

DEFAULT_LAG_THRESHOLD = 64 * 1024
CLOSE_SLOW_CONSUMER = 1008
CLOSE_MEMORY_PRESSURE = 1013
# Flush order: high-priority clients get their bytes first in each iteration.
_FLUSH_ORDER = (Priority.HIGH, Priority.NORMAL, Priority.LOW)
_CLOSE: dict[EvictionReason, tuple[int, str, str]] = {
    EvictionReason.SLOW_CONSUMER: (
        CLOSE_SLOW_CONSUMER,
        "slow consumer",
        "you read too slowly for your subscriptions; reconnect with fewer symbols"
        " or with conflation",
    ),
    EvictionReason.MEMORY_PRESSURE: (
        CLOSE_MEMORY_PRESSURE,
        "slow consumer: server memory pressure",
        "the server is short of buffer memory and dropped its slowest clients; retry later",
    ),
}


class FinalFrame(enum.Enum):
    """`Dispatcher(final_frames=…)` default: the JSON `slow_consumer` error per reason."""

    JSON_ERROR = "json_error"


class SubscriberLookup(Protocol[ClientT_co]):
    """Who is subscribed to a symbol (`SymbolRegistry` is one)."""

    def subscribers(self, symbol: str) -> Iterable[ClientT_co]: ...


def default_frame_builder() -> FrameBuilder:
    """`lib_common.net.text_frame`, imported on first use so importing core stays light."""
    from lib_common.net.frames import text_frame

    return text_frame


@dataclass(frozen=True, slots=True)
class DispatcherStats:
    """Counters for metrics."""

    clients: int
    encodes: int  # messages framed (once each, whatever the number of recipients)
    deliveries: int  # frames queued to clients
    conflated: int  # pending frames replaced by a newer one for the same symbol
    frames_written: int
    bytes_written: int
    writes: int  # write_frames calls (≤ one per client per flush)
    flushes: int
    dropped_frames: int  # pending frames discarded (client gone, closed or evicted)
    write_errors: int
    evictions: dict[str, int]


@dataclass(frozen=True, slots=True)
class FlushResult(Generic[ClientT]):
    """What one flush did."""

    writes: int = 0
    frames: int = 0
    held: int = 0  # clients left waiting for their transport to drain
    evicted: tuple[Victim[ClientT], ...] = ()


@dataclass(slots=True)
class _Outbox(Generic[ClientT]):
    sink: FrameSink
    priority: Priority
    conflate: bool
    dirty: dict[ClientT, None]  # the dirty set of this client's priority
    frames: list[bytes] = field(default_factory=list)
    latest: dict[str | int, bytes] = field(default_factory=dict)
    # Of `frames`, how many were measured and their bytes (a held backlog is measured
    # at each flush: only what was added since).
    measured: int = 0
    measured_bytes: int = 0

    def take(self) -> list[bytes]:
        batch = list(self.latest.values()) if self.conflate else self.frames
        self.frames = []
        self.latest = {}
        self.measured = self.measured_bytes = 0
        return batch

    def count(self) -> int:
        return len(self.latest) if self.conflate else len(self.frames)

    def pending_bytes(self) -> int:
        if self.conflate:
            return sum(map(len, self.latest.values()))  # at most one frame per symbol
        frames = self.frames
        if self.measured < len(frames):
            self.measured_bytes += sum(map(len, frames[self.measured :]))
            self.measured = len(frames)
        return self.measured_bytes


class Dispatcher(Generic[ClientT]):
    """Encode once, queue per client, write once per client per loop iteration."""

    def __init__(
        self,
        subscriptions: SubscriberLookup[ClientT],
        *,
        guard: MemoryGuard[ClientT] | None = None,
        frame_builder: FrameBuilder | None = None,
        clock_us: Callable[[], int] = wall_clock_us,
        call_soon: Scheduler | None = None,
        lag_threshold: int = DEFAULT_LAG_THRESHOLD,
        on_evict: Callable[[Victim[ClientT]], None] | None = None,
        final_frames: Mapping[EvictionReason, bytes | None] | FinalFrame | None = (
            FinalFrame.JSON_ERROR
        ),
    ) -> None:
        """`final_frames`: what an evicted client is sent before its close, per reason
        (None for a reason, or for all: the close alone)."""
        self._subs = subscriptions
        self.guard: MemoryGuard[ClientT] = guard if guard is not None else MemoryGuard()
        self._frame = frame_builder if frame_builder is not None else default_frame_builder()
        self._clock_us = clock_us
        self._call_soon = call_soon
        self._lag_threshold = lag_threshold
        self._on_evict = on_evict
        self._clients: dict[ClientT, _Outbox[ClientT]] = {}
        # Dirty clients per priority, dicts used as ordered sets.
        self._dirty: dict[Priority, dict[ClientT, None]] = {p: {} for p in _FLUSH_ORDER}
        self._held: dict[ClientT, None] = {}  # lagging clients with frames waiting
        self._flush_scheduled = False
        self._needs_enforce = False
        self._control_key = 0
        self._final_frames: Mapping[EvictionReason, bytes | None]
        if final_frames is FinalFrame.JSON_ERROR:
            self._final_frames = {
                reason: self._frame(
                    encode_error_message("slow_consumer", text, reason=reason.value)
                )
                for reason, (_, _, text) in _CLOSE.items()
            }
        else:
            self._final_frames = final_frames or {}
        self._encodes = 0
        self._deliveries = 0
        self._conflated = 0
        self._frames_written = 0
        self._bytes_written = 0
        self._writes = 0
        self._flushes = 0
        self._dropped = 0
        self._write_errors = 0

    # -- clients --------------------------------------------------------------------

    def add_client(
        self,
        client: ClientT,
        sink: FrameSink,
        *,
        priority: Priority = Priority.NORMAL,
        conflate: bool = False,
    ) -> None:
        """Start delivering to `client` through `sink`."""
        if client in self._clients:
            raise ValueError(f"client {client!r} is already connected")
        self.guard.add_client(client, priority)
        self._clients[client] = _Outbox(sink, priority, conflate, self._dirty[priority])

    def remove_client(self, client: ClientT) -> None:
        """Forget `client` (its connection is gone); pending frames are dropped."""
        outbox = self._clients.pop(client, None)
        if outbox is None:
            return
        self._dropped += outbox.count()
        self.guard.remove_client(client)
        outbox.dirty.pop(client, None)
        self._held.pop(client, None)

    def __contains__(self, client: object) -> bool:
        return client in self._clients

    def held_clients(self) -> tuple[ClientT, ...]:
        """Clients whose frames wait for their transport to drain (see `notify_drained`)."""
        return tuple(self._held)

    def pending_frames(self, client: ClientT) -> int:
        """Frames queued for `client` and not yet written."""
        outbox = self._clients.get(client)
        return 0 if outbox is None else outbox.count()

    # -- messages -------------------------------------------------------------------

    def encode(self, payload: bytes) -> bytes:
        """Frame a JSON payload once; the result is shared by every recipient."""
        self._encodes += 1
        return self._frame(payload)

    def publish_quote(self, quote: Quote) -> int:
        """Encode `quote` once (stamping ts_library_out) and queue it for its subscribers.

        Returns the number of clients it was queued for; with none, nothing is encoded.
        """
        if not any(client in self._clients for client in self._subs.subscribers(quote.symbol)):
            return 0
        frame = self.encode(encode_quote_message(quote, self._clock_us()))
        return self.publish(quote.symbol, frame)

    def publish(self, symbol: str, frame: bytes) -> int:
        """Queue `frame` (already built) for every subscriber of `symbol`, without awaiting."""
        delivered = 0
        clients = self._clients
        # The hot loop: per recipient one lookup, one append and one mark; no encode, copy
        # or accounting (the flush does that once per client, not once per frame).
        for client in self._subs.subscribers(symbol):
            outbox = clients.get(client)
            if outbox is None:
                continue
            if outbox.conflate:
                self._conflate(outbox, symbol, frame)
            else:
                outbox.frames.append(frame)
            outbox.dirty[client] = None
            delivered += 1
        if delivered:
            self._deliveries += delivered
            self._schedule()
        return delivered

    def broadcast(self, frame: bytes) -> int:
        """Queue `frame` for every client (status messages); never conflated away."""
        for client, outbox in self._clients.items():
            self._enqueue(client, outbox, frame)
        if self._clients:
            self._schedule()
        return len(self._clients)

    def send(self, client: ClientT, frame: bytes) -> bool:
        """Queue `frame` for one client (snapshot, pong, error), in order with the rest."""
        outbox = self._clients.get(client)
        if outbox is None:
            return False
        self._enqueue(client, outbox, frame)
        self._schedule()
        return True

    def notify_drained(self, client: ClientT) -> None:
        """The transport of `client` drained: refresh its bytes and write what is held."""
        outbox = self._clients.get(client)
        if outbox is None:
            return
        self.guard.set_transport(client, outbox.sink.buffered_bytes())
        if outbox.count():
            outbox.dirty[client] = None
            self._schedule()

    # -- the write path -------------------------------------------------------------

    def flush(self) -> FlushResult[ClientT]:
        """Write every dirty client's pending frames, one write per client, enforcing the
        memory guard. Called by the loop once per iteration, or in tests.

        A client whose transport keeps up is written and then reported by its transport's
        figure, so a burst its socket absorbs is never held against it. A client whose
        transport lags is held: its backlog and transport figure are reported, it stays
        dirty, and the guard judges it on them (a victim's backlog is dropped, not first
        copied into a transport).
        """
        self._flush_scheduled = False
        self._flushes += 1
        writes = frames = 0
        guard = self.guard
        lag_threshold = self._lag_threshold
        for priority in _FLUSH_ORDER:
            dirty = self._dirty[priority]
            if not dirty:
                continue
            batch_clients = list(dirty)
            dirty.clear()
            for client in batch_clients:
                outbox = self._clients.get(client)
                if outbox is None:
                    continue
                sink = outbox.sink
                if sink.closed:
                    self._dropped += outbox.count()
                    guard.set_pending(client, 0)
                    outbox.take()
                    self._held.pop(client, None)
                    continue
                buffered = sink.buffered_bytes()
                if buffered > lag_threshold:
                    over_pending = guard.set_pending(client, outbox.pending_bytes())
                    if guard.set_transport(client, buffered) or over_pending:
                        self._needs_enforce = True
                    dirty[client] = None
                    self._held[client] = None
                    continue
                written = self._write(client, outbox)
                if written:
                    writes += 1
                    frames += written
        evicted: list[Victim[ClientT]] = []
        if self._needs_enforce or guard.over_budget():
            evicted = self._enforce()
        self._writes += writes
        self._frames_written += frames
        return FlushResult(writes, frames, len(self._held), tuple(evicted))

    def _write(self, client: ClientT, outbox: _Outbox[ClientT]) -> int:
        """Hand the client's pending frames to its sink in one call; the frames written
        (0 when the sink broke: the client is then aborted and removed)."""
        sink = outbox.sink
        batch = outbox.take()
        # Only a held client has pending bytes on the guard's books (the flush put them
        # there); for the rest there is nothing to clear.
        if client in self._held:
            del self._held[client]
            self.guard.set_pending(client, 0)
        if not batch:
            return 0
        try:
            sink.write_frames(batch)
        except Exception:
            # A broken sink must not stop the fan-out to everyone else.
            self._write_errors += 1
            self._dropped += len(batch)
            self.remove_client(client)
            sink.abort()
            return 0
        self._bytes_written += sum(map(len, batch))
        if self.guard.set_transport(client, sink.buffered_bytes()):
            self._needs_enforce = True
        return len(batch)

    def _enqueue(self, client: ClientT, outbox: _Outbox[ClientT], frame: bytes) -> None:
        """Queue a frame that belongs to no symbol (never conflated away)."""
        if outbox.conflate:
            self._control_key += 1
            outbox.latest[self._control_key] = frame
        else:
            outbox.frames.append(frame)
        self._deliveries += 1
        outbox.dirty[client] = None

    def _conflate(self, outbox: _Outbox[ClientT], symbol: str, frame: bytes) -> None:
        """Keep only the newest frame of `symbol`."""
        latest = outbox.latest
        if symbol in latest:
            self._conflated += 1
        latest[symbol] = frame

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        call_soon = self._call_soon
        if call_soon is None:
            try:
                call_soon = asyncio.get_running_loop().call_soon
            except RuntimeError:
                return  # no loop: the caller flushes by hand (sans-I/O use)
        self._flush_scheduled = True
        call_soon(self.flush)

    def _enforce(self) -> list[Victim[ClientT]]:
        self._needs_enforce = False
        guard = self.guard
        if guard.over_budget():
            # Transports drain without telling us; refresh before blaming anyone.
            for client, outbox in self._clients.items():
                guard.set_transport(client, outbox.sink.buffered_bytes())
        victims = guard.pick_victims()
        for victim in victims:
            self._evict(victim)
        return victims

    def _evict(self, victim: Victim[ClientT]) -> None:
        outbox = self._clients.pop(victim.client)
        self._dropped += outbox.count()
        outbox.dirty.pop(victim.client, None)
        self._held.pop(victim.client, None)
        self.guard.record_eviction(victim)
        sink = outbox.sink
        if sink.closed:
            pass
        elif sink.buffered_bytes() > self._lag_threshold:
            # Far behind: a final frame would queue behind the backlog and the close
            # handshake wait out its timeout, the backlog held all along. Free it now.
            sink.abort()
        else:
            code, reason, _ = _CLOSE[victim.reason]
            try:
                final = self._final_frames.get(victim.reason)
                if final is not None:
                    sink.write_frames([final])
                sink.close(code, reason)
            except Exception:
                self._write_errors += 1
                sink.abort()
        if self._on_evict is not None:
            self._on_evict(victim)

    def stats(self) -> DispatcherStats:
        """Counters for metrics."""
        return DispatcherStats(
            clients=len(self._clients),
            encodes=self._encodes,
            deliveries=self._deliveries,
            conflated=self._conflated,
            frames_written=self._frames_written,
            bytes_written=self._bytes_written,
            writes=self._writes,
            flushes=self._flushes,
            dropped_frames=self._dropped,
            write_errors=self._write_errors,
            evictions=self.guard.stats().evictions,
        )
