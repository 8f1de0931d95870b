"""The seeded random walk (no sockets): determinism, independence, fields per class."""

from __future__ import annotations

from lib_common.ingestors.yahoo.quote import MarketHours, QuoteType
from lib_common.sim import ManualClock, Market


def walk(market: Market, symbol: str, steps: int) -> list[float]:
    return [market.step(symbol).price for _ in range(steps)]


def test_same_seed_same_prices() -> None:
    """Two markets with one seed produce the same price sequence per symbol."""
    a = Market(7, ManualClock(), frozenset())
    b = Market(7, ManualClock(), frozenset())
    assert walk(a, "AAPL", 50) == walk(b, "AAPL", 50)


def test_other_seed_other_prices() -> None:
    """Another seed produces another sequence."""
    a = Market(7, ManualClock(), frozenset())
    b = Market(8, ManualClock(), frozenset())
    assert walk(a, "AAPL", 20) != walk(b, "AAPL", 20)


def test_symbols_walk_independently() -> None:
    """A symbol's sequence does not depend on other symbols stepping in between."""
    alone = Market(3, ManualClock(), frozenset())
    mixed = Market(3, ManualClock(), frozenset())
    expected = walk(alone, "MSFT", 10)
    got = []
    for _ in range(10):
        mixed.step("BTC-USD")
        got.append(mixed.step("MSFT").price)
        mixed.step("^GSPC")
    assert got == expected


def test_time_comes_from_the_clock() -> None:
    """A step is stamped with the injected clock, in whole milliseconds."""
    clock = ManualClock(1_700_000_000.1234)
    market = Market(0, clock, frozenset())
    market.step("AAPL")
    clock.advance(2.5)
    quote = market.step("AAPL")
    assert quote.ts_upstream == 1_700_000_002_623_000


def test_equity_fields_like_yahoo() -> None:
    """Equities: EQUITY on NMS/NYQ, price_hint 2, volume, no currency or previous close."""
    market = Market(0, ManualClock(), frozenset())
    aapl = market.step("AAPL")
    jpm = market.step("JPM")
    assert (aapl.quote_type, aapl.exchange, jpm.exchange) == (QuoteType.EQUITY, "NMS", "NYQ")
    assert aapl.market_hours == MarketHours.REGULAR_MARKET
    assert aapl.price_hint == 2
    assert aapl.day_volume is not None
    assert aapl.day_volume > 0
    assert aapl.currency is None
    assert aapl.previous_close is None
    assert aapl.day_low is not None
    assert aapl.day_high is not None
    assert aapl.day_low <= aapl.price <= aapl.day_high


def test_crypto_fields_like_yahoo() -> None:
    """Crypto: CRYPTOCURRENCY on CCC in USD, with supply, market cap and 24h volumes."""
    quote = Market(0, ManualClock(), frozenset()).step("BTC-USD")
    assert (quote.quote_type, quote.exchange, quote.currency) == (
        QuoteType.CRYPTOCURRENCY,
        "CCC",
        "USD",
    )
    assert quote.from_currency == "BTC"
    assert quote.vol_24hr == quote.vol_all_currencies == quote.day_volume
    assert quote.circulating_supply is not None
    assert quote.market_cap is not None
    assert abs(quote.market_cap - quote.circulating_supply * quote.price) < 1e4


def test_index_fields() -> None:
    """Indices: INDEX on their exchange, no volume."""
    quote = Market(0, ManualClock(), frozenset()).step("^GSPC")
    assert (quote.quote_type, quote.exchange, quote.day_volume) == (QuoteType.INDEX, "SNP", None)


def test_change_is_against_previous_close() -> None:
    """change and change_percent are measured from the symbol's previous close."""
    market = Market(1, ManualClock(), frozenset())
    quote = market.step("TSLA")
    state = market.state("TSLA")
    assert quote.change is not None
    assert quote.change_percent is not None
    assert abs(quote.change - (state.price - state.previous_close)) < 1e-9
    assert abs(quote.change_percent - quote.change / state.previous_close * 100) < 1e-9


def test_unknown_and_malformed_symbols() -> None:
    """Listed unknown symbols and malformed ones have no data."""
    market = Market(0, ManualClock(), frozenset({"NOPE"}))
    assert market.is_known("AAPL")
    assert market.is_known("EURUSD=X")
    assert not market.is_known("NOPE")
    assert not market.is_known("not a symbol")
