"""One health verdict for the Yahoo stream from its per-shard events (sans-I/O).

The stream client reports each upstream connection ("shard") separately: `Connected`,
`Stalled`, `Disconnected`, `Reconnecting`, `ShardClosed`. The mode machine wants one
stream. Rules:

- a shard is *bad* from a `Stalled`, `Disconnected` or `Reconnecting` until it has
  reconnected **and delivered a quote**: a connection that opens but stays silent (the
  simulator's stall, a real Yahoo outage) must not count as recovered, or the mode would
  flap between polling and streaming every reconnect;
- only a quote read from the shard's *current* connection proves it: quotes and status
  events travel on separate channels, so a quote the old socket delivered just before it
  failed can be handled after the new socket's `Connected`. A quote stamped
  (`ts_library_in`) before that `Connected` (`at_us`, the same clock) proves nothing;
- a freshly opened shard that never failed is not bad: the client's own watchdog flags
  it (`Stalled`) if it stays silent while quotes are due;
- the stream is *healthy* when no shard is bad and a quote arrived since the last bad
  moment; `ShardClosed` forgets a shard (no symbols left, or shutdown).

`StreamHealth` returns what the mode machine must hear: `Verdict.STALLED` / `Verdict.DOWN`
on every bad event (the machine keeps the earliest bad time), `Verdict.HEALTHY` once when
the stream becomes healthy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lib_common.ingestors.yahoo.stream_events import (
    Connected,
    Disconnected,
    Reconnecting,
    ShardClosed,
    Stalled,
    StreamStatus,
)

__all__ = ["ShardState", "StreamHealth", "StreamState", "Verdict"]


class StreamState(enum.Enum):
    """The stream as a whole (the value is the wire spelling in status messages)."""

    STOPPED = "stopped"  # no upstream connection (nothing to stream)
    CONNECTING = "connecting"  # connections open, no quote seen yet
    HEALTHY = "healthy"  # connected and quotes flowing
    STALLED = "stalled"  # a connection went silent while quotes were due
    DOWN = "down"  # a connection is lost and being redialled
    RECOVERING = "recovering"  # reconnected after a failure, no quote on it yet


class ShardState(enum.Enum):
    """One upstream connection."""

    OPEN = "open"  # connected, never failed since it opened
    PROVING = "proving"  # reconnected after a failure, waiting for its first quote
    STALLED = "stalled"
    DOWN = "down"


class Verdict(enum.Enum):
    """What to tell the mode machine."""

    HEALTHY = "healthy"
    STALLED = "stalled"
    DOWN = "down"


_BAD = frozenset({ShardState.PROVING, ShardState.STALLED, ShardState.DOWN})


@dataclass(slots=True)
class _Counts:
    connects: int = 0
    stalls: int = 0
    disconnects: int = 0
    reconnects: int = 0


class StreamHealth:
    """Per-shard states and the aggregate verdict."""

    def __init__(self) -> None:
        self._shards: dict[int, ShardState] = {}
        self._opened_us: dict[int, int] = {}  # per shard: `Connected.at_us` of its socket
        self._bad = 0  # shards in a bad state
        self._proven = False  # a quote arrived since the last bad moment
        self.counts = _Counts()

    # -- inputs ---------------------------------------------------------------------

    def on_event(self, event: StreamStatus) -> Verdict | None:
        """A status event from the stream client."""
        shard = event.shard
        if isinstance(event, Connected):
            self.counts.connects += 1
            old = self._shards.get(shard)
            self._opened_us[shard] = event.at_us
            self._set(shard, ShardState.OPEN if old is None else ShardState.PROVING)
            return None
        if isinstance(event, Stalled):
            self.counts.stalls += 1
            self._set(shard, ShardState.STALLED)
            return Verdict.STALLED
        if isinstance(event, Disconnected | Reconnecting):
            if isinstance(event, Disconnected):
                self.counts.disconnects += 1
            else:
                self.counts.reconnects += 1
            if self._shards.get(shard) is not ShardState.STALLED:
                self._set(shard, ShardState.DOWN)
            return Verdict.STALLED if self.state is StreamState.STALLED else Verdict.DOWN
        assert isinstance(event, ShardClosed)
        self._forget(shard)
        if not self._shards:
            self._proven = False
            return Verdict.DOWN  # no connection at all
        return self._healthy_now()

    def on_quote(self, shard: int | None, received_us: int | None = None) -> Verdict | None:
        """A quote arrived on `shard` (None: its shard is unknown, e.g. just removed).

        `received_us`: its receipt stamp (`Quote.ts_library_in`); None: read from the
        shard's current connection.
        """
        if shard is not None and self._shards.get(shard) is ShardState.PROVING:
            if received_us is not None and received_us < self._opened_us.get(shard, 0):
                return None  # read from the connection that failed: proves nothing
            self._set(shard, ShardState.OPEN)
        return self._healthy_now()

    # -- queries --------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """Connected, nothing bad, and quotes proven to flow."""
        return bool(self._shards) and not self._bad and self._proven

    @property
    def state(self) -> StreamState:
        """The aggregate state (worst shard first)."""
        states = self._shards.values()
        if not states:
            return StreamState.STOPPED
        if ShardState.STALLED in states:
            return StreamState.STALLED
        if ShardState.DOWN in states:
            return StreamState.DOWN
        if ShardState.PROVING in states:
            return StreamState.RECOVERING
        return StreamState.HEALTHY if self.healthy else StreamState.CONNECTING

    def shards(self) -> dict[int, ShardState]:
        """A copy of the per-shard states."""
        return dict(self._shards)

    # -- internals ------------------------------------------------------------------

    def _healthy_now(self) -> Verdict | None:
        if self._bad or not self._shards or self._proven:
            return None
        self._proven = True
        return Verdict.HEALTHY

    def _set(self, shard: int, state: ShardState) -> None:
        old = self._shards.get(shard)
        self._bad += (state in _BAD) - (old in _BAD)
        self._shards[shard] = state
        if state in _BAD:
            self._proven = False

    def _forget(self, shard: int) -> None:
        old = self._shards.pop(shard, None)
        self._opened_us.pop(shard, None)
        self._bad -= old in _BAD
