"""What a Yahoo-protocol client may say, and what the gateway does about it.

Runs under the shared `SessionHub` (admission, auth, Origin, per-client token bucket,
error budget), as its `SessionHandler`. Everything here is synchronous: decisions go to
the upstream manager (symbol registry) and the dispatcher, nothing awaits.

- `{"subscribe":[...]}` → the manager's registry adds the symbols for this client; the
  symbols the client did not hold yet get a **snapshot** (the last value, as Yahoo sends
  on subscribe) in the client's format. Symbols it already holds are `unchanged`: a
  re-sent full list (yfinance does it every 15 s) causes no upstream traffic, no second
  reference and no snapshot.
- `{"unsubscribe":[...]}` → the registry drops them (linger applies upstream).
- Like Yahoo, **nothing is ever answered**: no acks, no errors. Entries that are not
  symbols, symbols over the per-client or global limit, and unknown symbols are dropped
  silently (Yahoo truncates and ignores the same way); they are counted for /metrics.
- A malformed control message (not JSON, wrong shape, both keys) is ignored and the
  connection stays open; it is counted, logged at most once per `log_interval`, and
  charged to the client's error budget, so a client that keeps sending junk is closed
  with 1008 by the hub (`session.reject` sends no frame: the hub's `error_frame` is None).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol

from loguru import logger

from lib_common.core import RegistryChange
from lib_common.ingestors.yahoo.control import ControlError, Subscribe, parse_control
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.logging import TokenBucket
from rsdev_servers.common.sessions import ClientSession
from rsdev_servers.server_yahoo.fanout import QuoteFanout
from rsdev_servers.server_yahoo.formats import WireFormat, format_for_query
from rsdev_servers.server_yahoo.topics import FormatTopics

__all__ = ["BAD_CONTROL", "ControlCounters", "SymbolDemand", "YahooSessionHandler"]

BAD_CONTROL = "bad_control"  # the error code charged to a client's error budget
_FORMAT_KEY = "format"


class SymbolDemand(Protocol):
    """The part of the upstream manager a client session drives (all synchronous)."""

    def subscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange: ...

    def unsubscribe(self, client: int, symbols: Iterable[object]) -> RegistryChange: ...

    def disconnect(self, client: int) -> RegistryChange: ...

    def last_quote(self, symbol: str) -> Quote | None: ...


class ControlCounters:
    """What clients sent, for /metrics."""

    def __init__(self) -> None:
        self.messages: Counter[str] = Counter()  # subscribe, unsubscribe, invalid
        self.invalid: Counter[str] = Counter()  # ControlError kind → count
        self.ignored_symbols: Counter[str] = Counter()  # reason → symbols dropped silently
        self.resubscribed = 0  # symbols re-sent while already held (harmless)


class YahooSessionHandler:
    """The gateway side of every Yahoo-protocol client session."""

    def __init__(
        self,
        demand: SymbolDemand,
        topics: FormatTopics,
        fanout: QuoteFanout,
        *,
        log_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._demand = demand
        self._topics = topics
        self._fanout = fanout
        self._clock = clock
        self._log_budget = TokenBucket(log_interval, burst=3)
        self._unlogged = 0
        self.counters = ControlCounters()

    # -- SessionHandler ---------------------------------------------------------------

    def on_open(self, session: ClientSession) -> None:
        fmt = format_for_query(session.conn.query)
        session.state[_FORMAT_KEY] = fmt
        self._topics.add_client(session.id, fmt)
        logger.debug("client {} {} connected ({} frames)", session.id, session.remote, fmt.value)

    def on_message(self, session: ClientSession, message: str | bytes) -> None:
        control = parse_control(message)
        if isinstance(control, ControlError):
            self._bad_control(session, control)
            return
        if isinstance(control, Subscribe):
            self.counters.messages["subscribe"] += 1
            change = self._demand.subscribe(session.id, control.symbols)
            self._topics.add(session.id, change.added)
            self.counters.resubscribed += len(change.unchanged)
            self._snapshots(session, change.added)
        else:
            self.counters.messages["unsubscribe"] += 1
            change = self._demand.unsubscribe(session.id, control.symbols)
            self._topics.remove(session.id, change.removed)
            self._unheld(change)
        if control.rejected:
            self.counters.ignored_symbols["not_a_symbol"] += len(control.rejected)
        for rejection in change.rejected:
            self.counters.ignored_symbols[rejection.reason] += 1

    def on_close(self, session: ClientSession) -> None:
        try:
            self._unheld(self._demand.disconnect(session.id))
        finally:
            self._topics.remove_client(session.id)

    # -- helpers ------------------------------------------------------------------------

    def _unheld(self, change: RegistryChange) -> None:
        """Symbols nobody holds any more need no cached frames (bounded memory)."""
        if change.linger_started or change.upstream_unsubscribe:
            self._fanout.forget(change.linger_started + change.upstream_unsubscribe)

    def _snapshots(self, session: ClientSession, symbols: tuple[str, ...]) -> None:
        fmt: WireFormat = session.state[_FORMAT_KEY]
        for symbol in symbols:
            quote = self._demand.last_quote(symbol)
            if quote is not None:
                self._fanout.snapshot(session.id, fmt, quote)

    def _bad_control(self, session: ClientSession, error: ControlError) -> None:
        self.counters.messages["invalid"] += 1
        self.counters.invalid[error.kind] += 1
        if self._log_budget.allow(self._clock()):
            suppressed = f" ({self._unlogged} more not logged)" if self._unlogged else ""
            self._unlogged = 0
            logger.info(
                "client {} {}: ignored a malformed control message ({}){}",
                session.id,
                session.remote,
                error.reason[:120],
                suppressed,
            )
        else:
            self._unlogged += 1
        # No frame goes back (Yahoo answers nothing); the error budget still counts it.
        session.reject(BAD_CONTROL, error.reason)
