"""JSON encoding of the server→client messages of the restream protocol (v1).

One function per message shape, all producing compact UTF-8 JSON `bytes` ready to be
framed once. `encode_quote_message` is the single place a `Quote` becomes JSON.

The bytes are exactly those of the standard library's `json.dumps(message,
separators=(",", ":"), ensure_ascii=False)` (the reference the tests hold them to), but
orjson writes them: on the fan-out hot path that is about ten times faster. Where orjson
would spell a value differently or refuses it (a float under 1e-4 in magnitude, which it
writes `0.00001` or `1e-7` where `repr` writes `1e-05`/`1e-07`; NaN/±inf, which it writes
`null`; ints beyond 64 bits; non-`str` dict keys; str/int/dict/list subclasses), the
standard library encodes the message instead.

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
import operator
import struct
from dataclasses import fields
from typing import Any, Final

import orjson

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
# All of a quote's looped fields in one C call instead of one getattr each.
_field_values: Final = operator.attrgetter(*_FIELD_NAMES)
_F32 = struct.Struct("<f")
_pack_f32, _unpack_f32 = _F32.pack, _F32.unpack
_F32_DIGITS: Final = tuple(f"%.{digits}g" for digits in range(6, 10))  # float32: ≤ 9 digits
# Below this magnitude orjson and `repr` spell floats differently (0.00001 vs 1e-05).
_TINY: Final = 1e-4
# Types orjson hands to the standard library instead of encoding them its own way.
_ORJSON_OPTIONS: Final = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(message: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a message dict (no spaces, no NaN: ValueError for NaN/±inf).

    Values outside JSON's types raise TypeError as `json.dumps` does, except the two
    orjson writes by value on its own: a `uuid.UUID` and an `enum.Enum` without a str,
    int or float mixin.
    """
    try:
        data = orjson.dumps(message, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return _stdlib_json(message)
    # `null` may stand for a NaN/±inf (json refuses those); `e-` or `0.0000` for a float
    # under 1e-4 that repr spells another way. A false hit only costs the slower encoder.
    if b"null" in data or b"e-" in data or b"0.0000" in data:
        return _stdlib_json(message)
    return data


def encode_quote_message(
    quote: Quote, ts_library_out: int, *, message_type: str = "quote"
) -> bytes:
    """The `{"type":"quote",…}` message for `quote`, stamped with `ts_library_out` (µs).

    `message_type="snapshot"` gives the same shape for the last-value message sent on
    subscribe.
    """
    decimals = quote.price_hint if quote.price_hint is not None else 2
    price = _finite(round(quote.price, decimals))
    # False once a value is one orjson might spell unlike json (see the module docstring).
    same_spelling = price is None or not (-_TINY < price < _TINY) or price == 0
    message: dict[str, Any] = {"type": message_type, "symbol": quote.symbol, "price": price}
    for name, value in zip(_FIELD_NAMES, _field_values(quote), strict=True):
        if value is None:
            continue
        kind = value.__class__
        if kind is str or kind is int:  # most fields: emitted as they are
            pass
        elif isinstance(value, float):
            if value - value:  # NaN or ±inf (x - x is 0.0 for every finite x)
                continue
            if name in _PRICE_LIKE:
                value = round(value, decimals)
            elif name in _FLOAT32:
                value = _shortest_float32(value)
            if kind is not float or (-_TINY < value < _TINY and value):
                same_spelling = False
        elif isinstance(value, enum.Enum):
            value = value._name_  # the member's name (`.name` is a slow descriptor)
        elif kind is not bool:
            same_spelling = False
        message[name] = value
    if quote.price_hint is not None:
        message["price_hint"] = quote.price_hint
    message["source"] = quote.source
    message["ts_upstream"] = quote.ts_upstream
    message["ts_library_in"] = quote.ts_library_in
    message["ts_library_out"] = ts_library_out
    if same_spelling:
        try:
            return orjson.dumps(message, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:  # an int beyond 64 bits, a lone surrogate, a subclass
            pass
    return _stdlib_json(message)


def encode_error_message(code: str, message: str, **extra: Any) -> bytes:
    """`{"type":"error","code":…,"message":…,…extra}`."""
    return encode_json({"type": "error", "code": code, "message": message, **extra})


def _stdlib_json(message: dict[str, Any]) -> bytes:
    return _encoder.encode(message).encode()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 as `value`; `value` if not a float32."""
    try:
        as32 = _unpack_f32(_pack_f32(value))[0]
    except OverflowError:
        return value
    if as32 != value:
        return value  # a double from REST polling: already what the upstream said
    for spelling in _F32_DIGITS:
        candidate = float(spelling % value)
        if _unpack_f32(_pack_f32(candidate))[0] == value:
            return candidate
    return value
