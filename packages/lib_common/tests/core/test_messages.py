"""JSON encoding of client messages, above all the quote message."""

from __future__ import annotations

import json

from lib_common.core.messages import encode_error_message, encode_json, encode_quote_message
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

# Golden frame 1 of docs/upstreams (BTC-USD, 2025-10-30), values as float32 decodes them.
BTC = Quote(
    symbol="BTC-USD",
    price=110429.421875,
    ts_upstream=1761785160000000,
    ts_library_in=1761785160123456,
    currency="USD",
    exchange="CCC",
    quote_type=QuoteType.CRYPTOCURRENCY,
    market_hours=MarketHours.REGULAR_MARKET,
    change_percent=-1.9597359895706177,
    day_volume=62560296960,
    day_high=110429.421875,
    day_low=109768.8046875,
    change=-2207.3828125,
    open_price=110066.0,
    last_size=62560296960,
    price_hint=2,
    vol_24hr=62560296960,
    vol_all_currencies=62560296960,
    from_currency="BTC",
    circulating_supply=19941792.0,
    market_cap=2202160590000.0,
    payload=b"\x0a\x07BTC-USD",
)


def test_quote_message_has_every_present_field_in_order() -> None:
    """type, symbol, price first; decoded fields; provenance and timestamps last."""
    message = json.loads(encode_quote_message(BTC, 1761785160123999))
    assert message == {
        "type": "quote",
        "symbol": "BTC-USD",
        "price": 110429.42,
        "currency": "USD",
        "exchange": "CCC",
        "quote_type": "CRYPTOCURRENCY",
        "market_hours": "REGULAR_MARKET",
        "change_percent": -1.959736,
        "day_volume": 62560296960,
        "day_high": 110429.42,
        "day_low": 109768.8,
        "change": -2207.38,
        "open_price": 110066.0,
        "last_size": 62560296960,
        "vol_24hr": 62560296960,
        "vol_all_currencies": 62560296960,
        "from_currency": "BTC",
        "circulating_supply": 19941792.0,
        "market_cap": 2202160590000.0,
        "price_hint": 2,
        "source": "stream",
        "ts_upstream": 1761785160000000,
        "ts_library_in": 1761785160123456,
        "ts_library_out": 1761785160123999,
    }
    keys = list(message)
    assert keys[:3] == ["type", "symbol", "price"]
    assert keys[-4:] == ["source", "ts_upstream", "ts_library_in", "ts_library_out"]


def test_quote_message_is_compact_utf8_without_payload() -> None:
    """No spaces, UTF-8 names kept as is, raw upstream bytes never emitted."""
    quote = Quote(symbol="NESN.SW", price=97.5, ts_upstream=1, ts_library_in=2, short_name="Nestlé")
    raw = encode_quote_message(quote, 3)
    assert b": " not in raw
    assert b", " not in raw
    assert "Nestlé".encode() in raw
    assert b"payload" not in encode_quote_message(BTC, 3)


def test_display_price_follows_price_hint() -> None:
    """price and price-like fields round to price_hint decimals (2 when absent)."""
    quote = Quote(
        symbol="EURUSD=X",
        price=1.0834500789642334,
        bid=1.0834100246429443,
        ts_upstream=1,
        ts_library_in=2,
        price_hint=4,
    )
    message = json.loads(encode_quote_message(quote, 3))
    assert (message["price"], message["bid"]) == (1.0835, 1.0834)
    plain = Quote(symbol="AAPL", price=232.35000610351562, ts_upstream=1, ts_library_in=2)
    assert json.loads(encode_quote_message(plain, 3))["price"] == 232.35


def test_unknown_enum_values_stay_ints_and_non_finite_floats_are_dropped() -> None:
    """QuoteType 44 is emitted as 44; NaN/inf fields are absent, never invalid JSON."""
    quote = Quote(
        symbol="X",
        price=1.0,
        ts_upstream=1,
        ts_library_in=2,
        quote_type=44,
        market_hours=MarketHours.PRE_MARKET,
        bid=float("nan"),
        market_cap=float("inf"),
    )
    message = json.loads(encode_quote_message(quote, 3))
    assert message["quote_type"] == 44
    assert message["market_hours"] == "PRE_MARKET"
    assert "bid" not in message
    assert "market_cap" not in message


def test_polled_doubles_are_kept_as_given() -> None:
    """A change_percent that is not a float32 (REST polling) is not re-rounded."""
    quote = Quote(
        symbol="AAPL", price=1.0, ts_upstream=1, ts_library_in=2, change_percent=0.123456789012
    )
    assert json.loads(encode_quote_message(quote, 3))["change_percent"] == 0.123456789012


def test_snapshot_uses_the_same_shape() -> None:
    """message_type='snapshot' only changes the type."""
    quote_msg = json.loads(encode_quote_message(BTC, 3))
    snapshot = json.loads(encode_quote_message(BTC, 3, message_type="snapshot"))
    assert snapshot.pop("type") == "snapshot"
    quote_msg.pop("type")
    assert quote_msg == snapshot


def test_error_message_shape() -> None:
    """Errors carry type, code, message and any extra fields."""
    assert json.loads(encode_error_message("slow_consumer", "m", reason="r")) == {
        "type": "error",
        "code": "slow_consumer",
        "message": "m",
        "reason": "r",
    }
    assert encode_json({"a": 1}) == b'{"a":1}'
