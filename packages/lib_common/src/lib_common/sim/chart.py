"""Yahoo's `/v8/finance/chart/{symbol}` body, from the same state the stream walks.

`regularMarketPrice` is the symbol's current random-walk price (what the last streamed
frame carried, at float64 precision) and `regularMarketTime` the time of that step, in
epoch seconds as Yahoo sends it.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from lib_common.sim.instruments import Instrument
from lib_common.sim.market import SymbolState

__all__ = ["chart_body", "chart_not_found"]

# US sessions (America/New_York); other exchanges get a 09:00–17:30 local day.
_US: Final = (time(4, 0), time(9, 30), time(16, 0), time(20, 0))
_OTHER: Final = (time(8, 0), time(9, 0), time(17, 30), time(18, 0))
_VALID_RANGES: Final = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]


def chart_not_found(symbol: str) -> dict[str, Any]:
    """The body Yahoo answers (with 404) for a symbol it does not know."""
    return {
        "chart": {
            "result": None,
            "error": {
                "code": "Not Found",
                "description": f"No data found, symbol may be delisted: {symbol}",
            },
        }
    }


def chart_body(state: SymbolState, now: float, interval: str, range_: str) -> dict[str, Any]:
    """The chart response for one symbol at simulator time `now`."""
    inst = state.instrument
    zone = ZoneInfo(inst.timezone)
    local = datetime.fromtimestamp(now, zone)
    gmtoffset = _offset(local)
    minute = int(state.updated // 60 * 60)
    meta: dict[str, Any] = {
        "currency": inst.currency,
        "symbol": inst.symbol,
        "exchangeName": inst.exchange,
        "fullExchangeName": inst.full_exchange,
        "instrumentType": inst.instrument_type,
        "firstTradeDate": 345479400,
        "regularMarketTime": int(state.updated),
        "hasPrePostMarketData": inst.timezone == "America/New_York" and not inst.is_crypto,
        "gmtoffset": gmtoffset,
        "timezone": local.tzname(),
        "exchangeTimezoneName": inst.timezone,
        "regularMarketPrice": state.price,
        "regularMarketDayHigh": state.day_high,
        "regularMarketDayLow": state.day_low,
        "regularMarketVolume": state.day_volume,
        "longName": inst.name,
        "shortName": inst.name,
        "chartPreviousClose": state.previous_close,
        "previousClose": state.previous_close,
        "scale": 3,
        "priceHint": inst.price_hint,
        "currentTradingPeriod": _trading_period(inst, local, gmtoffset),
        "dataGranularity": interval,
        "range": range_,
        "validRanges": _VALID_RANGES,
    }
    result = {
        "meta": meta,
        "timestamp": [minute],
        "indicators": {
            "quote": [
                {
                    "open": [state.open_price],
                    "high": [state.day_high],
                    "low": [state.day_low],
                    "close": [state.price],
                    "volume": [state.day_volume],
                }
            ]
        },
    }
    return {"chart": {"result": [result], "error": None}}


def _offset(local: datetime) -> int:
    offset = local.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _trading_period(inst: Instrument, local: datetime, gmtoffset: int) -> dict[str, Any]:
    zone = local.tzinfo
    day = local.date()
    if inst.is_crypto:  # trades around the clock: one UTC day
        start = int(datetime.combine(day, time(0, 0), zone).timestamp())
        bounds = (start, start, start + 86340, start + 86340)
    else:
        pre, open_, close, post = _US if inst.timezone == "America/New_York" else _OTHER
        at = [int(datetime.combine(day, t, zone).timestamp()) for t in (pre, open_, close, post)]
        bounds = (at[0], at[1], at[2], at[3])
    name = local.tzname()

    def period(start: int, end: int) -> dict[str, Any]:
        return {"timezone": name, "start": start, "end": end, "gmtoffset": gmtoffset}

    return {
        "pre": period(bounds[0], bounds[1]),
        "regular": period(bounds[1], bounds[2]),
        "post": period(bounds[2], bounds[3]),
    }
