"""Yahoo's v8 chart response → `Quote(source="poll")` (sans-I/O: a parsed body in, an outcome out).

`GET /v8/finance/chart/{symbol}?interval=1m&range=1d` answers `chart.result[0].meta`;
the mapping (see docs/upstreams.md, "REST poller"):

| meta                                       | Quote                                  |
|--------------------------------------------|----------------------------------------|
| regularMarketPrice (required)              | price                                  |
| regularMarketTime (epoch s, required)      | ts_upstream = seconds × 1_000_000 (µs) |
| regularMarketDayHigh / Low                 | day_high / day_low                     |
| regularMarketVolume                        | day_volume                             |
| regularMarketOpen, else the first 1m open  | open_price                             |
| previousClose, else chartPreviousClose     | previous_close                         |
| regularMarketChange(Percent), else derived | change = price − previous_close,       |
|                                            | change_percent = change / prev × 100   |
| priceHint, currency, exchangeName          | price_hint, currency, exchange         |
| shortName                                  | short_name                             |
| instrumentType (EQUITY, ETF, …)            | quote_type (QuoteType by name)         |
| currentTradingPeriod ∋ regularMarketTime   | market_hours (pre/regular/post)        |

`map_chart` never raises: `chart.error` becomes `ChartError` (e.g. an unknown symbol) and
any other unusable body `Malformed`, each with a reason for the log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

__all__ = [
    "ChartError",
    "ChartOutcome",
    "Malformed",
    "is_down_page",
    "map_chart",
    "market_hours_at",
]

# Yahoo's outage page (served with 5xx, or 200 behind some CDNs) says this.
DOWN_PAGE_MARKER: Final = "will be right back"
_SESSIONS: Final = (
    ("pre", MarketHours.PRE_MARKET),
    ("regular", MarketHours.REGULAR_MARKET),
    ("post", MarketHours.POST_MARKET),
)


@dataclass(frozen=True, slots=True)
class ChartError:
    """Yahoo answered `chart.error` (e.g. code "Not Found" for an unknown symbol)."""

    symbol: str
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """The body is not a chart response we can read; `reason` says what was wrong."""

    symbol: str
    reason: str


ChartOutcome = Quote | ChartError | Malformed


def is_down_page(text: str) -> bool:
    """True for Yahoo's "Will be right back" outage page."""
    return DOWN_PAGE_MARKER in text[:20_000].lower()


def map_chart(doc: object, *, symbol: str, received_us: int) -> ChartOutcome:
    """Map a parsed chart body for `symbol` to a `Quote` stamped `ts_library_in=received_us`.

    The quote carries the requested `symbol` (the key the caller subscribed with), even
    if Yahoo's `meta.symbol` spells it differently.
    """
    chart = _get(doc, "chart")
    if not isinstance(chart, dict):
        return Malformed(symbol, "no 'chart' object")
    error = chart.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        description = error.get("description")
        return ChartError(
            symbol,
            str(code) if code is not None else "unknown",
            str(description) if description is not None else "",
        )
    result = chart.get("result")
    if not isinstance(result, list) or not result or not isinstance(result[0], dict):
        return Malformed(symbol, "'chart.result' is not a non-empty list of objects")
    meta = result[0].get("meta")
    if not isinstance(meta, dict):
        return Malformed(symbol, "'chart.result[0].meta' is not an object")
    return _quote_from_meta(meta, result[0], symbol=symbol, received_us=received_us)


def market_hours_at(epoch_s: int, period: object) -> MarketHours | None:
    """The session of `currentTradingPeriod` whose [start, end) holds `epoch_s`, if any."""
    if not isinstance(period, dict):
        return None
    for name, hours in _SESSIONS:
        session = period.get(name)
        start, end = _number(_get(session, "start")), _number(_get(session, "end"))
        if start is not None and end is not None and start <= epoch_s < end:
            return hours
    return None


def _quote_from_meta(
    meta: dict[str, Any], result: dict[str, Any], *, symbol: str, received_us: int
) -> ChartOutcome:
    price = _number(meta.get("regularMarketPrice"))
    if price is None:
        return Malformed(symbol, "meta.regularMarketPrice is missing or not a finite number")
    market_time = _integer(meta.get("regularMarketTime"))
    if market_time is None:
        return Malformed(symbol, "meta.regularMarketTime is missing or not an integer")
    previous = _number(meta.get("previousClose"))
    if previous is None:
        previous = _number(meta.get("chartPreviousClose"))
    change = _number(meta.get("regularMarketChange"))
    if change is None and previous is not None:
        change = price - previous
    change_percent = _number(meta.get("regularMarketChangePercent"))
    if change_percent is None and change is not None and previous:
        change_percent = change / previous * 100.0
    open_price = _number(meta.get("regularMarketOpen"))
    if open_price is None:
        open_price = _first_open(result)
    return Quote(
        symbol=symbol,
        price=price,
        ts_upstream=market_time * 1_000_000,
        ts_library_in=received_us,
        source="poll",
        currency=_string(meta.get("currency")),
        exchange=_string(meta.get("exchangeName")),
        quote_type=_quote_type(meta.get("instrumentType")),
        market_hours=market_hours_at(market_time, meta.get("currentTradingPeriod")),
        change_percent=change_percent,
        day_volume=_integer(meta.get("regularMarketVolume")),
        day_high=_number(meta.get("regularMarketDayHigh")),
        day_low=_number(meta.get("regularMarketDayLow")),
        change=change,
        short_name=_string(meta.get("shortName")),
        open_price=open_price,
        previous_close=previous,
        price_hint=_integer(meta.get("priceHint")),
    )


def _first_open(result: dict[str, Any]) -> float | None:
    """The first non-null 1-minute open of the day: the session's opening price."""
    quotes = _get(result.get("indicators"), "quote")
    if not isinstance(quotes, list) or not quotes:
        return None
    opens = _get(quotes[0], "open")
    if not isinstance(opens, list):
        return None
    for value in opens:
        number = _number(value)
        if number is not None:
            return number
    return None


def _quote_type(value: object) -> QuoteType | None:
    if not isinstance(value, str):
        return None
    try:
        return QuoteType[value.upper()]
    except KeyError:
        return None  # a type name pricing.proto does not list


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _number(value: object) -> float | None:
    """A finite JSON number as float (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _integer(value: object) -> int | None:
    """A JSON integer (or an integral float, as some encoders send volumes)."""
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return int(value) if isinstance(value, int) else int(number)


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
