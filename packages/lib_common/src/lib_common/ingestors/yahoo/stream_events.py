"""What the Yahoo stream client reports besides quotes: status events and counters.

Status events are frozen dataclasses, one per thing that happened to one shard (one
upstream connection). `StreamStats` is a snapshot of the client's counters for metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "Connected",
    "Disconnected",
    "Reconnecting",
    "ShardClosed",
    "Stalled",
    "StreamCounters",
    "StreamStats",
    "StreamStatus",
]


@dataclass(frozen=True, slots=True)
class Connected:
    """Shard `shard` opened a connection to `url`; it is subscribing `symbols` symbols.

    `at_us` is the client's receipt clock (the one that stamps `Quote.ts_library_in`) when
    the connection opened: a quote stamped earlier was read from an older connection.
    """

    shard: int
    url: str
    symbols: int
    at_us: int = 0


@dataclass(frozen=True, slots=True)
class Stalled:
    """Shard `shard` heard nothing for `silent_for` s while quotes were due: it will redial."""

    shard: int
    silent_for: float


@dataclass(frozen=True, slots=True)
class Disconnected:
    """Shard `shard` lost or left its connection.

    `code` is the close code the upstream sent (1000: a normal close), None when it sent
    none (an abrupt loss, 1006; a stall, which we abort). `reason` is for humans.
    """

    shard: int
    reason: str
    code: int | None = None


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """Shard `shard` waits `delay` s before attempt `attempt` (1-based, since last healthy)."""

    shard: int
    attempt: int
    delay: float
    last_error: str


@dataclass(frozen=True, slots=True)
class ShardClosed:
    """Shard `shard` is gone: "idle" (no symbols left after the grace) or "shutdown"."""

    shard: int
    reason: Literal["idle", "shutdown"]


StreamStatus = Connected | Stalled | Disconnected | Reconnecting | ShardClosed


@dataclass(frozen=True, slots=True)
class StreamStats:
    """A snapshot of the stream client's counters (all since start, except the gauges).

    frames: WebSocket messages received; quotes: quotes handed to the consumer;
    unwanted: quotes dropped because nobody wants them (late frames for a symbol just
    unsubscribed, or the consumer closed its stream); skips / decode_errors: by kind
    (see the codec's `SkipKind`/`DecodeErrorKind`);
    quote_waits: times the quote buffer was full and the reader waited for the consumer;
    status_dropped: status events dropped because nobody read them (oldest first);
    connects / connect_failures / disconnects / reconnects / stalls: connection history;
    excused_silences: watchdog checks that found silence but no symbol due to trade;
    heartbeats: whole-list re-subscribes; subscribe_messages / unsubscribe_messages: all
    control messages sent (heartbeats included). Gauges: shards, connections (open now),
    symbols (wanted now).
    """

    frames: int = 0
    quotes: int = 0
    unwanted: int = 0
    skips: Mapping[str, int] = field(default_factory=dict)
    decode_errors: Mapping[str, int] = field(default_factory=dict)
    quote_waits: int = 0
    status_dropped: int = 0
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    reconnects: int = 0
    stalls: int = 0
    excused_silences: int = 0
    heartbeats: int = 0
    subscribe_messages: int = 0
    unsubscribe_messages: int = 0
    shards: int = 0
    connections: int = 0
    symbols: int = 0

    @property
    def decode_errors_total(self) -> int:
        """Frames that failed to decode, all kinds together."""
        return sum(self.decode_errors.values())


class StreamCounters:
    """The client's live, mutable counters (plain attributes: the reader bumps them per frame)."""

    def __init__(self) -> None:
        self.frames = 0
        self.quotes = 0
        self.unwanted = 0
        self.skips: Counter[str] = Counter()
        self.decode_errors: Counter[str] = Counter()
        self.quote_waits = 0
        self.status_dropped = 0
        self.connects = 0
        self.connect_failures = 0
        self.disconnects = 0
        self.reconnects = 0
        self.stalls = 0
        self.excused_silences = 0
        self.heartbeats = 0
        self.subscribe_messages = 0
        self.unsubscribe_messages = 0

    def snapshot(self, *, shards: int, connections: int, symbols: int) -> StreamStats:
        """Freeze the counters, with the current gauges."""
        return StreamStats(
            frames=self.frames,
            quotes=self.quotes,
            unwanted=self.unwanted,
            skips=MappingProxyType(dict(self.skips)),
            decode_errors=MappingProxyType(dict(self.decode_errors)),
            quote_waits=self.quote_waits,
            status_dropped=self.status_dropped,
            connects=self.connects,
            connect_failures=self.connect_failures,
            disconnects=self.disconnects,
            reconnects=self.reconnects,
            stalls=self.stalls,
            excused_silences=self.excused_silences,
            heartbeats=self.heartbeats,
            subscribe_messages=self.subscribe_messages,
            unsubscribe_messages=self.unsubscribe_messages,
            shards=shards,
            connections=connections,
            symbols=symbols,
        )
