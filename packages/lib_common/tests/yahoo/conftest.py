"""Golden Yahoo frames (real captures published in client test suites), shared as fixtures."""

from __future__ import annotations

import base64
import struct

import pytest

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

BTC_2025_10 = (
    "CgdCVEMtVVNEFbau10cYgIWhqcZmIgNVU0QqA0NDQzApOAFFodj6v0iAgJOO0gNVtq7XR11nZNZHZSD2CcV9APnWR7AB"
    "gICTjtID2AEE4AGAgJOO0gPoAYCAk47SA/IBA0JUQ4ECAAAAAJoEc0GJAgCAZf/XBYBC"
)
BTC_2025_01 = (
    "CgdCVEMtVVNEFYoMuUcYwLCVgIplIgNVU0QqA0NDQzApOAFFPWrEP0iAgOrxvANVx/25R12csrRHZYD8skR9/7i0R7AB"
    "gIDq8bwD2AEE4AGAgOrxvAPoAYCA6vG8A/IBA0JUQ4ECAAAAwPrjckGJAgAA2P5ZT3tC"
)
TSLA_2021 = "CgRUU0xBFR8FKUQYoMyD1ZVeKgNOTVMwCDgBRSLND8BIpvnwDmXAo3jB2AEE"
MSFT_2020 = "CgRNU0ZUFYVrMUMY0KLMjcNcKgNOTVMwCDgBRZ+B3L9IuPn8CVU0IjRDXYVrMUNlQApHwNgBBA=="
AAPL_2020 = "CgRBQVBMFZqZ4UMYoI+hlvlcKgNOTVMwCDgBRXIUSr9IyOXZDmWAwmXA2AEE"

RECEIVED_US = 1_761_785_160_123_456


def f32(value: float) -> float:
    """`value` rounded to the nearest float32, as it travels on the wire."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _btc(**fields: object) -> Quote:
    common: dict[str, object] = {
        "symbol": "BTC-USD",
        "ts_library_in": RECEIVED_US,
        "currency": "USD",
        "exchange": "CCC",
        "quote_type": QuoteType.CRYPTOCURRENCY,
        "market_hours": MarketHours.REGULAR_MARKET,
        "price_hint": 2,
        "from_currency": "BTC",
    }
    return Quote(**(common | fields))  # type: ignore[arg-type]


def _nasdaq(**fields: object) -> Quote:
    common: dict[str, object] = {
        "ts_library_in": RECEIVED_US,
        "exchange": "NMS",
        "quote_type": QuoteType.EQUITY,
        "market_hours": MarketHours.REGULAR_MARKET,
        "price_hint": 2,
    }
    return Quote(**(common | fields))  # type: ignore[arg-type]


# Every field of every golden frame, floats as float32 values (shortest repr of each
# float32, cross-checked against google.protobuf's decode of the same bytes).
EXPECTED: dict[str, Quote] = {
    BTC_2025_10: _btc(
        price=110429.421875,
        ts_upstream=1761785160000 * 1000,
        change_percent=f32(-1.959736),
        day_volume=62560296960,
        day_high=f32(110429.42),
        day_low=f32(109768.805),
        change=f32(-2207.3828),
        open_price=110066.0,
        last_size=62560296960,
        vol_24hr=62560296960,
        vol_all_currencies=62560296960,
        circulating_supply=19941792.0,
        market_cap=2202160590000.0,
    ),
    BTC_2025_01: _btc(
        price=94745.078125,
        ts_upstream=1736509140000 * 1000,
        change_percent=f32(1.5344921),
        day_volume=59712028672,
        day_high=f32(95227.555),
        day_low=f32(92517.22),
        change=f32(1431.8906),
        open_price=f32(92529.99),
        last_size=59712028672,
        vol_24hr=59712028672,
        vol_all_currencies=59712028672,
        circulating_supply=19808172.0,
        market_cap=1876726640000.0,
    ),
    TSLA_2021: _nasdaq(
        symbol="TSLA",
        price=f32(676.08),
        ts_upstream=1617815434000 * 1000,
        change_percent=f32(-2.2468953),
        day_volume=15605331,
        change=f32(-15.539978),
    ),
    MSFT_2020: _nasdaq(
        symbol="MSFT",
        price=f32(177.42),
        ts_upstream=1589554809000 * 1000,
        change_percent=f32(-1.7227057),
        day_volume=10460764,
        day_high=f32(180.1336),
        day_low=f32(177.42),
        change=f32(-3.1100006),
    ),
    AAPL_2020: _nasdaq(
        symbol="AAPL",
        price=f32(451.2),
        ts_upstream=1596811650000 * 1000,
        change_percent=f32(-0.7893745),
        day_volume=15415652,
        change=f32(-3.5899963),
    ),
}

# The values exactly as the reference lists them (strings keep their precision).
LISTED: dict[str, dict[str, str]] = {
    BTC_2025_10: {
        "symbol": "BTC-USD",
        "price": "110429.421875",
        "ts_upstream": "1761785160000000",
        "currency": "USD",
        "exchange": "CCC",
        "quote_type": "41",
        "market_hours": "1",
        "change_percent": "-1.959736",
        "day_volume": "62560296960",
        "day_high": "110429.42",
        "day_low": "109768.805",
        "change": "-2207.3828",
        "open_price": "110066.0",
        "last_size": "62560296960",
        "vol_24hr": "62560296960",
        "vol_all_currencies": "62560296960",
        "price_hint": "2",
        "from_currency": "BTC",
        "circulating_supply": "19941792.0",
        "market_cap": "2202160590000.0",
    },
    BTC_2025_01: {
        "price": "94745.078125",
        "ts_upstream": "1736509140000000",
        "change_percent": "1.5344921",
        "day_volume": "59712028672",
        "day_high": "95227.555",
        "day_low": "92517.22",
        "change": "1431.8906",
        "open_price": "92529.99",
        "market_cap": "1876726640000.0",
    },
    TSLA_2021: {
        "symbol": "TSLA",
        "price": "676.08",
        "ts_upstream": "1617815434000000",
        "exchange": "NMS",
        "quote_type": "8",
        "market_hours": "1",
        "change_percent": "-2.2469",
        "day_volume": "15605331",
        "change": "-15.54",
        "price_hint": "2",
    },
    MSFT_2020: {
        "symbol": "MSFT",
        "price": "177.42",
        "ts_upstream": "1589554809000000",
        "change_percent": "-1.7227",
        "day_volume": "10460764",
        "day_high": "180.1336",
        "day_low": "177.42",
        "change": "-3.11",
    },
    AAPL_2020: {
        "symbol": "AAPL",
        "price": "451.2",
        "ts_upstream": "1596811650000000",
        "change_percent": "-0.789",
        "day_volume": "15415652",
        "change": "-3.59",
    },
}

GOLDEN_BASE64 = tuple(EXPECTED)


@pytest.fixture(params=GOLDEN_BASE64, ids=["btc-2025-10", "btc-2025-01", "tsla", "msft", "aapl"])
def golden(request: pytest.FixtureRequest) -> str:
    """One golden frame as its bare base64 text."""
    return str(request.param)


@pytest.fixture(scope="session")
def golden_payloads() -> list[bytes]:
    """The PricingData bytes of all golden frames."""
    return [base64.b64decode(b64) for b64 in GOLDEN_BASE64]


@pytest.fixture
def expected_quotes() -> dict[str, Quote]:
    """Golden base64 → the Quote it must decode to (stamped with `received_us`)."""
    return EXPECTED


@pytest.fixture
def listed_values() -> dict[str, dict[str, str]]:
    """Golden base64 → {Quote field: value as the reference prints it}."""
    return LISTED


@pytest.fixture
def received_us() -> int:
    """The arrival stamp the golden expectations use."""
    return RECEIVED_US
