"""Which calendar the upstream manager follows: the real NYSE one, or "always open" for demos.

The manager asks a `MarketCalendar` three things: the NYSE session now (for status
messages), whether a symbol may trade now (for the mode and for the stream client's stall
watchdog), and when the answer may next change (so it re-evaluates exactly then).

- `UsMarketCalendar`: NYSE sessions with holidays and early closes, crypto around the
  clock, FX and futures Sunday 17:00–Friday 17:00 New York (`core.market_hours`).
- `AlwaysOpenCalendar`: every symbol trades, the session is always REGULAR. For `--demo`
  against the simulator, whose market is open whatever the real date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from lib_common.core.market_hours import NYSE, MarketSession, NyseCalendar, symbol_may_trade
from lib_common.core.symbols import is_indicator
from lib_common.ingestors.yahoo.quote import QuoteType

__all__ = [
    "ALWAYS_OPEN",
    "US_MARKETS",
    "AlwaysOpenCalendar",
    "MarketCalendar",
    "UsMarketCalendar",
    "trading_predicate",
]


class MarketCalendar(Protocol):
    """Trading hours as the upstream manager needs them (aware datetimes in, any zone)."""

    def session_at(self, dt: datetime) -> MarketSession:
        """The NYSE session at `dt` (what status messages call `market`)."""
        ...

    def may_trade(
        self, symbol: str, dt: datetime, quote_type: QuoteType | int | None = None
    ) -> bool:
        """Whether `symbol` can be expected to trade at `dt` (extended hours count)."""
        ...

    def next_change(self, dt: datetime) -> datetime | None:
        """The next instant after `dt` at which a session may begin or end (None: never)."""
        ...


class UsMarketCalendar:
    """The real calendar: NYSE sessions, crypto 24/7, FX and futures on weekdays."""

    def __init__(self, nyse: NyseCalendar = NYSE) -> None:
        self._nyse = nyse

    def session_at(self, dt: datetime) -> MarketSession:
        return self._nyse.session_at(dt)

    def may_trade(
        self, symbol: str, dt: datetime, quote_type: QuoteType | int | None = None
    ) -> bool:
        return symbol_may_trade(symbol, dt, quote_type=quote_type, calendar=self._nyse)

    def next_change(self, dt: datetime) -> datetime | None:
        # FX/futures week boundaries (Sunday/Friday 17:00) are not NYSE boundaries; the
        # manager also re-evaluates on a fixed period, which covers them.
        try:
            return self._nyse.next_change(dt)
        except LookupError:
            return None


class AlwaysOpenCalendar:
    """Every market symbol trades at every instant; the session is always REGULAR."""

    def session_at(self, dt: datetime) -> MarketSession:
        return MarketSession.REGULAR

    def may_trade(
        self, symbol: str, dt: datetime, quote_type: QuoteType | int | None = None
    ) -> bool:
        return not is_indicator(symbol)

    def next_change(self, dt: datetime) -> datetime | None:
        return None


ALWAYS_OPEN = AlwaysOpenCalendar()
"""The demo calendar."""
US_MARKETS = UsMarketCalendar()
"""The real calendar (the default)."""


def trading_predicate(calendar: MarketCalendar) -> Callable[[str, datetime], bool]:
    """`is_trading(symbol, now)` for the stream client's stall watchdog, from `calendar`.

    Give the stream client the same calendar as the manager, so that a quiet closed
    market is never mistaken for a stall (and an always-open demo market always is).
    """

    def is_trading(symbol: str, now: datetime) -> bool:
        return calendar.may_trade(symbol, now)

    return is_trading
