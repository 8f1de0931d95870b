"""How restream gets its quotes right now: streaming, polling or idle — as a table.

Sans-I/O: the I/O layer reports what it observes (symbols and market, stream connected,
data arrived, stall detected, stream lost) with a monotonic `now`, asks `next_deadline()`
when to call `poll(now)` again, and acts on each returned `Transition` (start/stop the
stream or the poller, log it once, tell the clients).

Modes:

- STREAMING: the Yahoo WebSocket is the source; the REST poller is off.
- POLLING: the stream failed; the REST poller is the source while the stream keeps
  reconnecting in the background.
- IDLE: nothing is expected to trade (or nobody subscribed): no stream. The I/O layer may
  refresh last values with a slow poll so snapshots stay fresh; no stall detection.

"Market open" means at least one subscribed symbol may trade now
(`market_hours.any_may_trade`): NYSE symbols in pre/regular/post sessions, crypto always,
FX/futures Sunday 17:00–Friday 17:00 New York, other exchanges always (we do not carry
their calendars, so we listen rather than miss a session). Indicators do not count: they
do not come from the stream.

Stream health (derived from observations with injected time, not part of the table):

- The stream *fails* when it has been disconnected or stalled for `grace` seconds
  without recovering → event STREAM_DOWN_BEYOND_GRACE.
- A failed stream *recovers* when it has been connected and not stalled for `hysteresis`
  seconds → event STREAM_HEALTHY. Hysteresis keeps a flapping stream from bouncing the
  mode.
- Entering STREAMING from IDLE starts the grace clock if the stream is not connected
  yet, so a stream that never comes up fails over to polling after `grace` seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from lib_common.core.market_hours import NYSE, NyseCalendar, any_may_trade
from lib_common.core.symbols import is_indicator
from lib_common.ingestors.yahoo.quote import QuoteType

DEFAULT_GRACE = 5.0
DEFAULT_HYSTERESIS = 10.0


class UpstreamMode(enum.Enum):
    """The source of quotes (the value is the wire spelling in status messages)."""

    STREAMING = "streaming"
    POLLING = "polling"
    IDLE = "idle"


class ModeEvent(enum.Enum):
    """What can move the mode."""

    MARKET_OPEN = "market_open"  # symbols subscribed and at least one may trade now
    MARKET_CLOSED = "market_closed"  # symbols subscribed, none may trade now
    NO_SYMBOLS = "no_symbols"  # nothing subscribed (from the stream)
    STREAM_DOWN_BEYOND_GRACE = "stream_down_beyond_grace"
    STREAM_HEALTHY = "stream_healthy"  # healthy for the hysteresis period after a failure


STREAMING, POLLING, IDLE = UpstreamMode.STREAMING, UpstreamMode.POLLING, UpstreamMode.IDLE
E = ModeEvent

# The whole mode state machine. Rules:
#   1. Nothing to follow (no symbols, or none may trade now) → IDLE, from any mode.
#   2. Something may trade and we were IDLE → STREAMING (the stream is always tried first).
#   3. The stream down/stalled beyond the grace period while STREAMING → POLLING.
#   4. The stream healthy for the hysteresis period while POLLING → STREAMING.
#   5. Everything else leaves the mode unchanged (stream health is not watched in IDLE;
#      an open market does not move an active mode).
# Every (mode, event) pair is listed, so a missing entry is a bug the tests catch.
MODE_TABLE: dict[tuple[UpstreamMode, ModeEvent], UpstreamMode] = {
    (IDLE, E.MARKET_OPEN): STREAMING,
    (IDLE, E.MARKET_CLOSED): IDLE,
    (IDLE, E.NO_SYMBOLS): IDLE,
    (IDLE, E.STREAM_DOWN_BEYOND_GRACE): IDLE,
    (IDLE, E.STREAM_HEALTHY): IDLE,
    (STREAMING, E.MARKET_OPEN): STREAMING,
    (STREAMING, E.MARKET_CLOSED): IDLE,
    (STREAMING, E.NO_SYMBOLS): IDLE,
    (STREAMING, E.STREAM_DOWN_BEYOND_GRACE): POLLING,
    (STREAMING, E.STREAM_HEALTHY): STREAMING,
    (POLLING, E.MARKET_OPEN): POLLING,
    (POLLING, E.MARKET_CLOSED): IDLE,
    (POLLING, E.NO_SYMBOLS): IDLE,
    (POLLING, E.STREAM_DOWN_BEYOND_GRACE): POLLING,
    (POLLING, E.STREAM_HEALTHY): STREAMING,
}


@dataclass(frozen=True, slots=True)
class Transition:
    """A mode change: log it once and tell the clients."""

    old: UpstreamMode
    new: UpstreamMode
    event: ModeEvent
    reason: str
    at: float  # monotonic seconds


class UpstreamModeMachine:
    """Turns observations and time into mode transitions through `MODE_TABLE`."""

    def __init__(
        self,
        *,
        grace: float = DEFAULT_GRACE,
        hysteresis: float = DEFAULT_HYSTERESIS,
        calendar: NyseCalendar = NYSE,
    ) -> None:
        if grace < 0 or hysteresis < 0:
            raise ValueError("grace and hysteresis must be >= 0")
        self.grace = grace
        self.hysteresis = hysteresis
        self._calendar = calendar
        self.mode = IDLE
        self._demand = E.NO_SYMBOLS
        self._connected = False
        self._bad_since: float | None = None  # stream down or stalled since (grace clock)
        self._good_since: float | None = None  # connected and flowing since (hysteresis)
        self._failed = False  # STREAM_DOWN_BEYOND_GRACE emitted, not yet recovered

    # -- observations ---------------------------------------------------------------

    def observe_market(
        self,
        symbols: Iterable[str],
        wall: datetime,
        now: float,
        *,
        quote_types: Mapping[str, QuoteType | int] | None = None,
    ) -> Transition | None:
        """Re-evaluate demand from the subscribed `symbols` and the wall-clock `wall`."""
        market = [s for s in symbols if not is_indicator(s)]
        if not market:
            return self.set_demand(has_symbols=False, market_open=False, now=now)
        is_open = any_may_trade(market, wall, quote_types=quote_types, calendar=self._calendar)
        return self.set_demand(has_symbols=True, market_open=is_open, now=now)

    def set_demand(self, *, has_symbols: bool, market_open: bool, now: float) -> Transition | None:
        """Whether anything is subscribed and whether any of it may trade now."""
        if not has_symbols:
            event = E.NO_SYMBOLS
        else:
            event = E.MARKET_OPEN if market_open else E.MARKET_CLOSED
        self._demand = event
        return self._fire(event, now, event.value.replace("_", " "))

    def stream_connected(self, now: float) -> Transition | None:
        """The upstream WebSocket is open (and subscribed)."""
        self._connected = True
        self._healthy(now)
        return self.poll(now)

    def stream_data(self, now: float) -> Transition | None:
        """A frame arrived: proof the stream flows (ends a stall)."""
        self._connected = True
        if self._bad_since is not None or self._good_since is None:
            self._healthy(now)
        return self.poll(now)

    def stream_stalled(self, now: float) -> Transition | None:
        """The watchdog saw no data while data was expected."""
        self._unhealthy(now)
        return self.poll(now)

    def stream_disconnected(self, now: float) -> Transition | None:
        """The upstream WebSocket closed or failed to connect."""
        self._connected = False
        self._unhealthy(now)
        return self.poll(now)

    # -- time -----------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When `poll` may next produce a transition (monotonic seconds), if ever."""
        if self.mode is IDLE:
            return None
        if not self._failed and self._bad_since is not None:
            return self._bad_since + self.grace
        if self._failed and self._good_since is not None:
            return self._good_since + self.hysteresis
        return None

    def poll(self, now: float) -> Transition | None:
        """Fire the grace / hysteresis events whose time has come."""
        if self.mode is IDLE:
            return None
        if not self._failed and self._bad_since is not None:
            down_for = now - self._bad_since
            if down_for >= self.grace:
                self._failed = True
                return self._fire(
                    E.STREAM_DOWN_BEYOND_GRACE,
                    now,
                    f"stream down or stalled for {down_for:.1f} s (grace {self.grace:g} s)",
                )
        if self._failed and self._good_since is not None:
            up_for = now - self._good_since
            if up_for >= self.hysteresis:
                self._failed = False
                return self._fire(
                    E.STREAM_HEALTHY,
                    now,
                    f"stream healthy for {up_for:.1f} s (hysteresis {self.hysteresis:g} s)",
                )
        return None

    # -- internals ------------------------------------------------------------------

    def _healthy(self, now: float) -> None:
        self._bad_since = None
        self._good_since = now

    def _unhealthy(self, now: float) -> None:
        self._good_since = None
        if self._bad_since is None:
            self._bad_since = now

    def _fire(self, event: ModeEvent, now: float, reason: str) -> Transition | None:
        old = self.mode
        new = MODE_TABLE[(old, event)]
        if new is old:
            return None
        self.mode = new
        if new is IDLE:
            # No stream is kept in IDLE: forget its health; leaving IDLE starts afresh.
            self._failed = False
            self._bad_since = None
            self._good_since = None
        elif old is IDLE:
            # Start afresh: a connected stream counts as healthy from now; otherwise it
            # must come up within the grace period.
            self._failed = False
            self._bad_since = None if self._connected else now
            self._good_since = now if self._connected else None
        return Transition(old, new, event, reason, now)
