"""JSON encoding of the server→client messages of the restream protocol (v1).

One function per message shape, all producing compact UTF-8 JSON `bytes` ready to be
framed once. `encode_quote_message` is the single place a `Quote` becomes JSON.

Quote fields:

- `price` is the display price (rounded to `price_hint` decimals, 2 when absent); the
  other price-like fields (bid, ask, day high/low, open, previous close, change, strike)
  are rounded the same way, because on the wire they are float32 and `232.35` would
  otherwise read `232.35000610351562`.
- `change_percent` keeps the shortest decimal that round-trips its float32 value.
- every other field is emitted as decoded when it is not None; `quote_type` and
  `market_hours` by enum NAME (`"EQUITY"`, `"REGULAR_MARKET"`), unknown wire values as
  plain ints; NaN/±inf are treated as absent (JSON has no spelling for them).
- `payload` (the raw upstream bytes) is never emitted.
"""

from __future__ import annotations

import enum
import json
import math
import struct
from dataclasses import fields
from typing import Any, Final

from lib_common.ingestors.yahoo.quote import Quote

_PRICE_LIKE: Final = frozenset(
    {"day_high", "day_low", "change", "open_price", "previous_close", "strike_price", "bid", "ask"}
)
_FLOAT32: Final = frozenset({"change_percent"})
# Emitted first (price) or last (provenance and timestamps), not in the field loop.
_SPECIAL: Final = frozenset(
    {"symbol", "price", "source", "ts_upstream", "ts_library_in", "payload", "price_hint"}
)
_FIELD_NAMES: Final = tuple(f.name for f in fields(Quote) if f.name not in _SPECIAL)
_F32 = struct.Struct("<f")

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(message: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a message dict (no spaces, no NaN)."""
    return _encoder.encode(message).encode()


def encode_quote_message(
    quote: Quote, ts_library_out: int, *, message_type: str = "quote"
) -> bytes:
    """The `{"type":"quote",…}` message for `quote`, stamped with `ts_library_out` (µs).

    `message_type="snapshot"` gives the same shape for the last-value message sent on
    subscribe.
    """
    decimals = quote.price_hint if quote.price_hint is not None else 2
    message: dict[str, Any] = {
        "type": message_type,
        "symbol": quote.symbol,
        "price": _finite(round(quote.price, decimals)),
    }
    for name in _FIELD_NAMES:
        value = getattr(quote, name)
        if value is None:
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                continue
            if name in _PRICE_LIKE:
                value = round(value, decimals)
            elif name in _FLOAT32:
                value = _shortest_float32(value)
        elif isinstance(value, enum.Enum):
            value = value.name
        message[name] = value
    if quote.price_hint is not None:
        message["price_hint"] = quote.price_hint
    message["source"] = quote.source
    message["ts_upstream"] = quote.ts_upstream
    message["ts_library_in"] = quote.ts_library_in
    message["ts_library_out"] = ts_library_out
    return encode_json(message)


def encode_error_message(code: str, message: str, **extra: Any) -> bytes:
    """`{"type":"error","code":…,"message":…,…extra}`."""
    return encode_json({"type": "error", "code": code, "message": message, **extra})


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 as `value`; `value` if not a float32."""
    try:
        as32 = _F32.unpack(_F32.pack(value))[0]
    except OverflowError:
        return value
    if as32 != value:
        return value  # a double from REST polling: already what the upstream said
    for digits in range(6, 10):  # float32 needs at most 9 significant digits
        candidate = float(f"{value:.{digits}g}")
        if _F32.unpack(_F32.pack(candidate))[0] == value:
            return candidate
    return value
