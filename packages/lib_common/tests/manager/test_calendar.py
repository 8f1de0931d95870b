"""The calendars the manager can follow: the real US one and the demo's always-open one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from lib_common.core.calendar import ALWAYS_OPEN, US_MARKETS, trading_predicate
from lib_common.core.market_hours import MarketSession
from lib_common.ingestors.yahoo.quote import QuoteType

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def test_us_calendar_knows_thanksgiving_the_early_close_and_crypto() -> None:
    """Closed on the holiday, POST after 13:00 the day after, crypto always trades."""
    assert US_MARKETS.session_at(ny(2026, 11, 26, 12, 0)) == MarketSession.CLOSED
    assert not US_MARKETS.may_trade("AAPL", ny(2026, 11, 26, 12, 0))
    assert US_MARKETS.may_trade("BTC-USD", ny(2026, 11, 26, 12, 0))
    assert US_MARKETS.may_trade("XYZ", ny(2026, 11, 26, 12, 0), QuoteType.CRYPTOCURRENCY)
    assert US_MARKETS.session_at(ny(2026, 11, 27, 13, 30)) == MarketSession.POST
    assert ny(2026, 11, 27, 17, 0) == US_MARKETS.next_change(ny(2026, 11, 27, 13, 30))
    assert not US_MARKETS.may_trade("@fear_greed", ny(2026, 11, 27, 10, 0))


def test_always_open_calendar_trades_every_market_symbol_forever() -> None:
    """The demo calendar: REGULAR at any instant, no boundaries, indicators excluded."""
    holiday = ny(2026, 11, 26, 3, 0)
    assert ALWAYS_OPEN.session_at(holiday) == MarketSession.REGULAR
    assert ALWAYS_OPEN.may_trade("AAPL", holiday)
    assert not ALWAYS_OPEN.may_trade("@fear_greed", holiday)
    assert ALWAYS_OPEN.next_change(holiday) is None


def test_trading_predicate_answers_for_the_stream_client() -> None:
    """`is_trading(symbol, now)` follows the calendar it was made from."""
    saturday = ny(2026, 11, 28, 12, 0)
    assert not trading_predicate(US_MARKETS)("AAPL", saturday)
    assert trading_predicate(US_MARKETS)("ETH-USD", saturday)
    assert trading_predicate(ALWAYS_OPEN)("AAPL", saturday)
