"""When US markets trade: NYSE sessions, holidays and early closes, and which symbols
trade around the clock.

All wall-clock rules are in America/New_York through `zoneinfo`, so DST needs no special
case. A trading day has four sessions:

| session | normal day    | early-close day |
|---------|---------------|-----------------|
| PRE     | 04:00–09:30   | 04:00–09:30     |
| REGULAR | 09:30–16:00   | 09:30–13:00     |
| POST    | 16:00–20:00   | 13:00–17:00     |

Weekends and full holidays are CLOSED all day. Early-close days keep a post-market
session, which ends at 17:00: NYSE Arca and the ECNs run after-hours trading for four
hours after an early close. Holidays and early closes come from
the `holidays` package's NYSE calendar (categories "public" and "half_day").

Inputs must be timezone-aware datetimes (any zone); results are aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from lib_common.core.symbols import is_indicator
from lib_common.ingestors.yahoo.quote import QuoteType

NEW_YORK = ZoneInfo("America/New_York")
PRE_OPEN = time(4, 0)
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
POST_CLOSE = time(20, 0)
EARLY_CLOSE = time(13, 0)
EARLY_POST_CLOSE = time(17, 0)
# The longest NYSE closure on record is a week (1914 and 2001 were unusual); a month of
# search means "something is wrong with the calendar data".
_SEARCH_DAYS = 31


class MarketSession(enum.Enum):
    """Where the NYSE day is at an instant (the value is the wire spelling)."""

    PRE = "pre"
    REGULAR = "regular"
    POST = "post"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One NYSE trading day's session boundaries (aware datetimes in New York time)."""

    date: date
    pre_open: datetime
    regular_open: datetime
    regular_close: datetime
    post_close: datetime
    early_close: bool

    def session_at(self, local: datetime) -> MarketSession:
        """The session at `local` (an aware datetime on this day)."""
        if local < self.pre_open or local >= self.post_close:
            return MarketSession.CLOSED
        if local < self.regular_open:
            return MarketSession.PRE
        if local < self.regular_close:
            return MarketSession.REGULAR
        return MarketSession.POST

    def boundaries(self) -> tuple[tuple[datetime, MarketSession], ...]:
        """Each instant the session changes this day and the session that starts there."""
        return (
            (self.pre_open, MarketSession.PRE),
            (self.regular_open, MarketSession.REGULAR),
            (self.regular_close, MarketSession.POST),
            (self.post_close, MarketSession.CLOSED),
        )


class NyseCalendar:
    """NYSE sessions from the `holidays` package, cached per year."""

    def __init__(self) -> None:
        self._years: dict[int, tuple[dict[date, str], dict[date, str]]] = {}

    def _year(self, year: int) -> tuple[dict[date, str], dict[date, str]]:
        cached = self._years.get(year)
        if cached is None:
            closed = dict(holidays.financial_holidays("NYSE", years=year, categories=("public",)))
            half = dict(holidays.financial_holidays("NYSE", years=year, categories=("half_day",)))
            cached = self._years[year] = (closed, half)
        return cached

    def holiday(self, day: date) -> str | None:
        """The holiday's name if the exchange is closed all day on `day` (weekends: None)."""
        return self._year(day.year)[0].get(day)

    def is_early_close(self, day: date) -> bool:
        """True when the regular session of `day` ends at 13:00."""
        return day in self._year(day.year)[1]

    def trading_day(self, day: date) -> TradingDay | None:
        """The sessions of `day`, or None on weekends and full holidays."""
        if day.weekday() >= 5 or self.holiday(day) is not None:
            return None
        early = self.is_early_close(day)

        def at(t: time) -> datetime:
            return datetime.combine(day, t, NEW_YORK)

        return TradingDay(
            date=day,
            pre_open=at(PRE_OPEN),
            regular_open=at(REGULAR_OPEN),
            regular_close=at(EARLY_CLOSE if early else REGULAR_CLOSE),
            post_close=at(EARLY_POST_CLOSE if early else POST_CLOSE),
            early_close=early,
        )

    def session_at(self, dt: datetime) -> MarketSession:
        """The NYSE session at instant `dt`."""
        local = _to_new_york(dt)
        day = self.trading_day(local.date())
        return MarketSession.CLOSED if day is None else day.session_at(local)

    def is_open(self, dt: datetime, *, extended: bool = False) -> bool:
        """True in the regular session; with `extended=True` also in pre and post."""
        session = self.session_at(dt)
        if extended:
            return session is not MarketSession.CLOSED
        return session is MarketSession.REGULAR

    def next_change(self, dt: datetime) -> datetime:
        """The first instant strictly after `dt` at which the session changes (UTC)."""
        for at, _ in self._boundaries_after(dt):
            return at
        raise LookupError(f"no NYSE session within {_SEARCH_DAYS} days of {dt}")

    def next_open(self, dt: datetime, *, extended: bool = False) -> datetime:
        """The next start of a regular session strictly after `dt` (UTC); with
        `extended=True`, the next start of a pre-market session."""
        wanted = MarketSession.PRE if extended else MarketSession.REGULAR
        for at, session in self._boundaries_after(dt):
            if session is wanted:
                return at
        raise LookupError(f"no NYSE session within {_SEARCH_DAYS} days of {dt}")

    def _boundaries_after(self, dt: datetime) -> Iterable[tuple[datetime, MarketSession]]:
        local = _to_new_york(dt)
        for offset in range(_SEARCH_DAYS):
            day = self.trading_day(local.date() + timedelta(days=offset))
            if day is None:
                continue
            for at, session in day.boundaries():
                if at > local:
                    yield at.astimezone(UTC), session


def _to_new_york(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("market hours need a timezone-aware datetime")
    return dt.astimezone(NEW_YORK)


NYSE = NyseCalendar()
"""The shared calendar; the module-level functions below use it."""


def session_at(dt: datetime) -> MarketSession:
    """The NYSE session at instant `dt`."""
    return NYSE.session_at(dt)


def is_open(dt: datetime, *, extended: bool = False) -> bool:
    """True in the regular NYSE session (with `extended=True`, also pre and post)."""
    return NYSE.is_open(dt, extended=extended)


def next_open(dt: datetime, *, extended: bool = False) -> datetime:
    """The next regular (or, extended, pre-market) NYSE open strictly after `dt`."""
    return NYSE.next_open(dt, extended=extended)


def next_change(dt: datetime) -> datetime:
    """The first instant strictly after `dt` at which the NYSE session changes."""
    return NYSE.next_change(dt)


# -- which calendar a symbol follows --------------------------------------------------


class SymbolHours(enum.Enum):
    """Which trading calendar a symbol follows, as far as we can tell from its name."""

    ALWAYS = "always"  # crypto: 24/7
    WEEKDAYS = "weekdays"  # FX and futures: Sunday 17:00 to Friday 17:00 New York
    NYSE = "nyse"  # US equities, ETFs and US indices: the NYSE sessions above
    UNKNOWN = "unknown"  # another exchange (ITC.NS, ^N225): assume it may be trading
    NONE = "none"  # not a market symbol (an @indicator): no upstream stream


_CRYPTO_QUOTES = ("-USD", "-USDT", "-USDC", "-EUR", "-GBP", "-BTC", "-ETH")
_US_INDICES = frozenset(
    {"^GSPC", "^DJI", "^IXIC", "^NDX", "^RUT", "^VIX", "^NYA", "^XAX", "^OEX", "^SOX",
     "^TNX", "^TYX", "^FVX", "^IRX"}
)  # fmt: skip
_WEEK_OPEN = (6, time(17, 0))  # Sunday 17:00
_WEEK_CLOSE = (4, time(17, 0))  # Friday 17:00


def symbol_hours(symbol: str, quote_type: QuoteType | int | None = None) -> SymbolHours:
    """Classify a normalised symbol; a known `quote_type` wins over the name.

    Name rules: `@…` → NONE; `*-USD` (and -USDT, -USDC, -EUR, -GBP, -BTC, -ETH) → ALWAYS;
    `*=X` (FX) and `*=F` (futures) → WEEKDAYS; `^…` → NYSE for the main US indices, else
    UNKNOWN; a `.SUFFIX` (another exchange) → UNKNOWN; anything else → NYSE.
    """
    if is_indicator(symbol):
        return SymbolHours.NONE
    if quote_type == QuoteType.CRYPTOCURRENCY:
        return SymbolHours.ALWAYS
    if quote_type in (QuoteType.CURRENCY, QuoteType.FUTURE):
        return SymbolHours.WEEKDAYS
    if quote_type is None and symbol.endswith(_CRYPTO_QUOTES):
        return SymbolHours.ALWAYS
    if symbol.endswith(("=X", "=F")):
        return SymbolHours.WEEKDAYS
    if symbol.startswith("^"):
        return SymbolHours.NYSE if symbol in _US_INDICES else SymbolHours.UNKNOWN
    if "." in symbol:
        return SymbolHours.UNKNOWN
    return SymbolHours.NYSE


def trades_around_the_clock(symbol: str, quote_type: QuoteType | int | None = None) -> bool:
    """True for crypto (quote type CRYPTOCURRENCY, or a `*-USD`-style pair): open 24/7."""
    return symbol_hours(symbol, quote_type) is SymbolHours.ALWAYS


def symbol_may_trade(
    symbol: str,
    dt: datetime,
    *,
    quote_type: QuoteType | int | None = None,
    calendar: NyseCalendar = NYSE,
) -> bool:
    """Whether `symbol` can be expected to trade at `dt` (NYSE extended hours count)."""
    hours = symbol_hours(symbol, quote_type)
    if hours is SymbolHours.NONE:
        return False
    if hours is SymbolHours.NYSE:
        return calendar.is_open(dt, extended=True)
    if hours is SymbolHours.WEEKDAYS:
        return _in_trading_week(_to_new_york(dt))
    return True  # ALWAYS, and UNKNOWN (better to listen than to miss a session)


def any_may_trade(
    symbols: Iterable[str],
    dt: datetime,
    *,
    quote_types: Mapping[str, QuoteType | int] | None = None,
    calendar: NyseCalendar = NYSE,
) -> bool:
    """True if at least one of `symbols` can be expected to trade at `dt`."""
    types = quote_types or {}
    return any(symbol_may_trade(s, dt, quote_type=types.get(s), calendar=calendar) for s in symbols)


def _in_trading_week(local: datetime) -> bool:
    weekday, t = local.weekday(), local.time()
    if weekday == 5:
        return False
    if weekday == _WEEK_OPEN[0]:
        return t >= _WEEK_OPEN[1]
    if weekday == _WEEK_CLOSE[0]:
        return t < _WEEK_CLOSE[1]
    return True
