"""NYSE sessions, holidays, early closes, DST, and which symbols trade when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from lib_common.core.market_hours import (
    NEW_YORK,
    NYSE,
    MarketSession,
    SymbolHours,
    any_may_trade,
    is_open,
    next_change,
    next_open,
    session_at,
    symbol_hours,
    symbol_may_trade,
    trades_around_the_clock,
)
from lib_common.ingestors.yahoo.quote import QuoteType

PRE, REGULAR, POST, CLOSED = (
    MarketSession.PRE,
    MarketSession.REGULAR,
    MarketSession.POST,
    MarketSession.CLOSED,
)


def ny(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NEW_YORK)


def utc(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


HOLIDAYS_2026 = [
    date(2026, 1, 1),
    date(2026, 1, 19),
    date(2026, 2, 16),
    date(2026, 4, 3),
    date(2026, 5, 25),
    date(2026, 6, 19),
    date(2026, 7, 3),
    date(2026, 9, 7),
    date(2026, 11, 26),
    date(2026, 12, 25),
]


@pytest.mark.parametrize(
    ("hh", "mm", "session"),
    [
        (3, 59, CLOSED),
        (4, 0, PRE),
        (9, 29, PRE),
        (9, 30, REGULAR),
        (15, 59, REGULAR),
        (16, 0, POST),
        (19, 59, POST),
        (20, 0, CLOSED),
    ],
)
def test_normal_day_session_boundaries(hh: int, mm: int, session: MarketSession) -> None:
    """A normal Tuesday: pre 04:00, regular 09:30, post 16:00, closed 20:00 (New York)."""
    assert session_at(ny(2026, 11, 24, hh, mm)) == session


@pytest.mark.parametrize("day", HOLIDAYS_2026)
def test_2026_holidays_are_closed_all_day(day: date) -> None:
    """Every 2026 NYSE holiday in the reference is closed, pre-market included."""
    assert NYSE.holiday(day) is not None
    for hh in (5, 10, 14, 17):
        assert session_at(ny(day.year, day.month, day.day, hh)) == CLOSED


def test_thanksgiving_2026_is_closed() -> None:
    """2026-11-26 (Thanksgiving) is closed at midday."""
    assert session_at(ny(2026, 11, 26, 12)) == CLOSED
    assert NYSE.trading_day(date(2026, 11, 26)) is None


@pytest.mark.parametrize(
    ("hh", "mm", "session"),
    [(9, 30, REGULAR), (12, 59, REGULAR), (13, 0, POST), (13, 1, POST), (16, 59, POST),
     (17, 0, CLOSED), (18, 0, CLOSED)],
)  # fmt: skip
def test_early_close_day_after_thanksgiving(hh: int, mm: int, session: MarketSession) -> None:
    """2026-11-27 closes at 13:00; after-hours then runs until 17:00."""
    assert session_at(ny(2026, 11, 27, hh, mm)) == session


def test_christmas_eve_2026_is_an_early_close() -> None:
    """2026-12-24 is a half day; 2026-12-23 is not."""
    assert NYSE.is_early_close(date(2026, 12, 24))
    assert not NYSE.is_early_close(date(2026, 12, 23))
    assert session_at(ny(2026, 12, 24, 14)) == POST


def test_weekends_are_closed() -> None:
    """Saturday and Sunday are closed at every hour."""
    for day in (28, 29):  # 2026-11-28 Saturday, 2026-11-29 Sunday
        for hh in range(24):
            assert session_at(ny(2026, 11, day, hh)) == CLOSED


def test_dst_spring_forward_keeps_new_york_wall_times() -> None:
    """Across 2026-03-08 the open stays 09:30 New York: 14:30 UTC before, 13:30 after."""
    assert next_open(utc(2026, 3, 6, 15)) == utc(2026, 3, 9, 13, 30)  # Friday → Monday (EDT)
    assert session_at(utc(2026, 3, 6, 14, 30)) == REGULAR  # EST: 09:30
    assert session_at(utc(2026, 3, 9, 13, 29)) == PRE  # EDT: 09:29
    assert session_at(utc(2026, 3, 9, 13, 30)) == REGULAR


def test_dst_fall_back_keeps_new_york_wall_times() -> None:
    """Across 2026-11-01 the open moves from 13:30 UTC to 14:30 UTC."""
    assert session_at(utc(2026, 10, 30, 13, 30)) == REGULAR  # EDT Friday
    assert next_open(utc(2026, 10, 30, 21)) == utc(2026, 11, 2, 14, 30)  # EST Monday
    assert session_at(utc(2026, 11, 2, 14, 29)) == PRE


def test_next_change_walks_the_day_and_skips_closures() -> None:
    """next_change steps through each boundary and jumps weekends and holidays."""
    steps = []
    at = ny(2026, 11, 25, 12)
    for _ in range(6):
        at = next_change(at)
        steps.append((at.astimezone(NEW_YORK).strftime("%m-%d %H:%M"), session_at(at)))
    assert steps == [
        ("11-25 16:00", POST),
        ("11-25 20:00", CLOSED),
        ("11-27 04:00", PRE),  # Thanksgiving skipped
        ("11-27 09:30", REGULAR),
        ("11-27 13:00", POST),  # early close
        ("11-27 17:00", CLOSED),
    ]
    assert next_change(ny(2026, 11, 27, 17)) == ny(2026, 11, 30, 4)  # weekend skipped


def test_next_open_is_strictly_after_and_results_are_utc() -> None:
    """During a session next_open is the next day's; extended means the next pre-market."""
    opened = next_open(ny(2026, 11, 24, 9, 30))
    assert opened == ny(2026, 11, 25, 9, 30)
    assert opened.tzinfo is UTC
    assert next_open(ny(2026, 11, 25, 20), extended=True) == ny(2026, 11, 27, 4)
    assert next_open(ny(2026, 12, 31, 17)) == ny(2027, 1, 4, 9, 30)  # New Year, weekend


def test_is_open_regular_by_default_extended_on_request() -> None:
    """is_open means the regular session unless extended hours are asked for."""
    pre = ny(2026, 11, 24, 8)
    assert not is_open(pre)
    assert is_open(pre, extended=True)
    assert is_open(ny(2026, 11, 24, 10))
    assert not is_open(ny(2026, 11, 24, 21), extended=True)


def test_any_timezone_in_naive_refused() -> None:
    """Aware datetimes in any zone work; naive ones are refused."""
    tokyo = timezone(timedelta(hours=9))
    assert session_at(datetime(2026, 11, 25, 0, 0, tzinfo=tokyo)) == REGULAR  # 10:00 NY
    with pytest.raises(ValueError, match="timezone-aware"):
        session_at(datetime(2026, 11, 24, 12))


@pytest.mark.parametrize(
    ("symbol", "quote_type", "hours"),
    [
        ("BTC-USD", None, SymbolHours.ALWAYS),
        ("ETH-EUR", None, SymbolHours.ALWAYS),
        ("XYZ", QuoteType.CRYPTOCURRENCY, SymbolHours.ALWAYS),
        ("AAPL", None, SymbolHours.NYSE),
        ("BRK-B", None, SymbolHours.NYSE),
        ("^GSPC", None, SymbolHours.NYSE),
        ("^N225", None, SymbolHours.UNKNOWN),
        ("EURUSD=X", None, SymbolHours.WEEKDAYS),
        ("GC=F", None, SymbolHours.WEEKDAYS),
        ("ITC.NS", None, SymbolHours.UNKNOWN),
        ("INVE-B.ST", None, SymbolHours.UNKNOWN),
        ("@fear_greed", None, SymbolHours.NONE),
        ("FOO-USD", QuoteType.EQUITY, SymbolHours.NYSE),
    ],
)
def test_symbol_hours_classification(
    symbol: str, quote_type: QuoteType | None, hours: SymbolHours
) -> None:
    """Symbols map to a calendar by quote type first, then by name."""
    assert symbol_hours(symbol, quote_type) == hours


def test_crypto_trades_around_the_clock() -> None:
    """`*-USD` and CRYPTOCURRENCY trade 24/7, including on Thanksgiving at 3am."""
    assert trades_around_the_clock("BTC-USD")
    assert trades_around_the_clock("SOL", QuoteType.CRYPTOCURRENCY)
    assert not trades_around_the_clock("AAPL")
    assert symbol_may_trade("BTC-USD", ny(2026, 11, 26, 3))


def test_fx_trades_sunday_evening_to_friday_evening() -> None:
    """FX/futures: Sunday 17:00 to Friday 17:00 New York, closed on Saturday."""
    assert not symbol_may_trade("EURUSD=X", ny(2026, 11, 27, 17))  # Friday 17:00
    assert symbol_may_trade("EURUSD=X", ny(2026, 11, 27, 16, 59))
    assert not symbol_may_trade("EURUSD=X", ny(2026, 11, 28, 12))  # Saturday
    assert not symbol_may_trade("EURUSD=X", ny(2026, 11, 29, 16, 59))
    assert symbol_may_trade("EURUSD=X", ny(2026, 11, 29, 17))  # Sunday 17:00
    assert symbol_may_trade("GC=F", ny(2026, 11, 26, 12))  # US holiday, FX/futures trade


def test_any_may_trade_combines_symbols() -> None:
    """One tradable symbol is enough; indicators never count."""
    thanksgiving = ny(2026, 11, 26, 12)
    assert not any_may_trade(["AAPL", "^GSPC", "@fear_greed"], thanksgiving)
    assert any_may_trade(["AAPL", "BTC-USD"], thanksgiving)
    assert any_may_trade(["AAPL"], ny(2026, 11, 27, 16))  # early-close after-hours
    assert any_may_trade(["X"], thanksgiving, quote_types={"X": QuoteType.CRYPTOCURRENCY})
    assert not any_may_trade([], thanksgiving)
