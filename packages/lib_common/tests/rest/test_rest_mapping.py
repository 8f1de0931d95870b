"""Tests for mapping Yahoo's v8 chart body to `Quote(source="poll")` (plain function calls)."""

from __future__ import annotations

from typing import Any

import pytest

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType
from lib_common.ingestors.yahoo.rest_mapping import (
    ChartError,
    Malformed,
    is_down_page,
    map_chart,
    market_hours_at,
)

RECEIVED = 1_761_840_000_123_456


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = doc["chart"]["result"][0]["meta"]
    return meta


def test_reference_document_maps_to_complete_quote(chart_doc: dict[str, Any]) -> None:
    """Every field the reference lists lands in the Quote, times in µs, change derived."""
    expected = Quote(
        symbol="AAPL",
        price=271.4,
        ts_upstream=1_761_840_000_000_000,
        ts_library_in=RECEIVED,
        source="poll",
        currency="USD",
        exchange="NMS",
        quote_type=QuoteType.EQUITY,
        market_hours=MarketHours.REGULAR_MARKET,
        change_percent=(271.4 - 269.7) / 269.7 * 100.0,
        day_volume=31_276_842,
        day_high=272.56,
        day_low=268.94,
        change=271.4 - 269.7,
        short_name="Apple Inc.",
        open_price=270.11,
        previous_close=269.7,
        price_hint=2,
    )
    assert expected == map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)


def test_quote_carries_requested_symbol(chart_doc: dict[str, Any]) -> None:
    """The quote is keyed by the symbol the caller asked for, not meta.symbol's spelling."""
    quote = map_chart(chart_doc, symbol="aapl", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert quote.symbol == "aapl"


def test_upstream_change_fields_win_over_derived(chart_doc: dict[str, Any]) -> None:
    """regularMarketChange(Percent) and regularMarketOpen are used when Yahoo sends them."""
    _meta(chart_doc).update(
        regularMarketChange=1.5, regularMarketChangePercent=0.55, regularMarketOpen=270.0
    )
    quote = map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert (quote.change, quote.change_percent, quote.open_price) == (1.5, 0.55, 270.0)


def test_chart_previous_close_is_the_fallback(chart_doc: dict[str, Any]) -> None:
    """Without previousClose, chartPreviousClose gives previous_close and the change."""
    meta = _meta(chart_doc)
    del meta["previousClose"]
    meta["chartPreviousClose"] = 270.4
    quote = map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert quote.previous_close == 270.4
    assert quote.change == pytest.approx(1.0)


def test_no_previous_close_leaves_change_absent(chart_doc: dict[str, Any]) -> None:
    """With no previous close at all, change and change_percent stay None."""
    meta = _meta(chart_doc)
    del meta["previousClose"], meta["chartPreviousClose"]
    quote = map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert (quote.previous_close, quote.change, quote.change_percent) == (None, None, None)


def test_minimal_meta_maps_with_optional_fields_none() -> None:
    """Only price and time are required; everything else may be missing."""
    doc = {"chart": {"result": [{"meta": {"regularMarketPrice": 1, "regularMarketTime": 5}}]}}
    expected = Quote(
        symbol="X", price=1.0, ts_upstream=5_000_000, ts_library_in=RECEIVED, source="poll"
    )
    assert expected == map_chart(doc, symbol="X", received_us=RECEIVED)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EQUITY", QuoteType.EQUITY),
        ("ETF", QuoteType.ETF),
        ("INDEX", QuoteType.INDEX),
        ("CRYPTOCURRENCY", QuoteType.CRYPTOCURRENCY),
        ("FUTURE", QuoteType.FUTURE),
        ("CURRENCY", QuoteType.CURRENCY),
        ("MUTUALFUND", QuoteType.MUTUALFUND),
        ("etf", QuoteType.ETF),
        ("SOMETHINGNEW", None),
        (42, None),
    ],
)
def test_instrument_type_maps_by_name(
    chart_doc: dict[str, Any], name: object, expected: QuoteType | None
) -> None:
    """instrumentType names become QuoteType members; unknown names give None."""
    _meta(chart_doc)["instrumentType"] = name
    quote = map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert expected == quote.quote_type


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (1_761_811_200, MarketHours.PRE_MARKET),
        (1_761_830_999, MarketHours.PRE_MARKET),
        (1_761_831_000, MarketHours.REGULAR_MARKET),
        (1_761_854_400, MarketHours.POST_MARKET),
        (1_761_868_800, None),
        (1_761_800_000, None),
    ],
)
def test_market_hours_from_trading_period(
    chart_doc: dict[str, Any], at: int, expected: MarketHours | None
) -> None:
    """The session whose [start, end) holds regularMarketTime; outside all of them None."""
    period = _meta(chart_doc)["currentTradingPeriod"]
    assert expected == market_hours_at(at, period)


def test_market_hours_tolerates_bad_period() -> None:
    """A missing or malformed currentTradingPeriod gives None, not an error."""
    assert None is market_hours_at(5, None)
    assert None is market_hours_at(5, {"regular": {"start": "x", "end": 10}})


def test_chart_error_is_reported() -> None:
    """`chart.error` (an unknown symbol) becomes a ChartError with code and description."""
    doc = {
        "chart": {
            "result": None,
            "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
        }
    }
    expected = ChartError("NOPE", "Not Found", "No data found, symbol may be delisted")
    assert expected == map_chart(doc, symbol="NOPE", received_us=RECEIVED)


def _with_meta(**meta: object) -> dict[str, Any]:
    return {"chart": {"result": [{"meta": meta}], "error": None}}


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        "Will be right back",
        {},
        {"chart": None},
        {"chart": {"result": None, "error": None}},
        {"chart": {"result": [], "error": None}},
        {"chart": {"result": ["x"], "error": None}},
        {"chart": {"result": [{}], "error": None}},
        _with_meta(regularMarketTime=5),
        _with_meta(regularMarketPrice="271.4", regularMarketTime=5),
        _with_meta(regularMarketPrice=True, regularMarketTime=5),
        _with_meta(regularMarketPrice=float("nan"), regularMarketTime=5),
        _with_meta(regularMarketPrice=1.0),
        _with_meta(regularMarketPrice=1.0, regularMarketTime=5.5),
    ],
)
def test_unexpected_shapes_are_malformed_not_exceptions(doc: object) -> None:
    """Anything without a usable price and time is Malformed with a reason, never raised."""
    outcome = map_chart(doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(outcome, Malformed)
    assert outcome.reason


def test_bad_optional_fields_are_dropped(chart_doc: dict[str, Any]) -> None:
    """Wrongly typed optional fields become None instead of failing the quote."""
    _meta(chart_doc).update(regularMarketVolume="lots", priceHint=2.5, currency=7)
    quote = map_chart(chart_doc, symbol="AAPL", received_us=RECEIVED)
    assert isinstance(quote, Quote)
    assert (quote.day_volume, quote.price_hint, quote.currency) == (None, None, None)


def test_down_page_is_recognised() -> None:
    """Yahoo's outage page is recognised by its text, case-insensitively; JSON is not."""
    assert is_down_page("<html><h1>Will be right back...</h1></html>")
    assert is_down_page("WILL BE RIGHT BACK")
    assert not is_down_page('{"chart":{"result":null}}')
