"""JSON encoding of client messages, above all the quote message.

The standard library is the reference: every message must be byte-for-byte what
`json.dumps(message, separators=(",", ":"), ensure_ascii=False)` gives (orjson writes it).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import struct
import types
import typing
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# -- byte identity with the standard library ----------------------------------------------


def stdlib_json(message: object) -> bytes:
    """The reference encoding."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def outcome(encode: typing.Callable[[Any], bytes], message: object) -> bytes | type[Exception]:
    """The bytes, or the type of the error, that `encode` gives for `message`."""
    try:
        return encode(message)
    except (ValueError, TypeError) as exc:
        return type(exc)


# Every kind of float: float32 wire values, doubles, NaN/±inf, and the tiny ones (under
# 1e-4) that orjson spells unlike `repr` (0.00001 and 1e-7 for 1e-05 and 1e-07).
ANY_FLOATS = (
    st.floats()
    | st.floats(width=32)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.sampled_from([1e-05, -1.25e-05, 1e-07, 9.5e-10, 5e-324, -0.0, 1e16, 1e-4, 1e22])
)
# JSON-safe ints, and past orjson's 64-bit range.
ANY_INTS = st.integers(-(2**53), 2**53) | st.integers(-(2**70), 2**70)
SCALARS = st.none() | st.booleans() | ANY_INTS | ANY_FLOATS | st.text()
KEYS = st.text() | st.integers(-(2**70), 2**70) | st.floats() | st.booleans() | st.none()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
FINITE_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), FINITE_VALUES, max_size=6))
@example({"price": 1.25e-05, "change": -1e-07, "name": "Nestlé \u2028 \x00\x1f\x7f 😀"})
@example({"null": "null", "t": "e-0.0000", "n": None})
def test_encode_json_is_byte_identical_to_stdlib(message: dict[str, Any]) -> None:
    """Any message of JSON values encodes to exactly the standard library's bytes."""
    assert stdlib_json(message) == encode_json(message)


@given(st.dictionaries(KEYS, JSON_VALUES, max_size=6))
@example({"x": float("nan")})
@example({"x": [1, {"y": float("-inf")}]})
@example({"big": 2**64, 3: "int key", None: 1, 1.5: True})
def test_encode_json_behaves_as_stdlib_on_anything(message: dict[Any, Any]) -> None:
    """NaN/±inf raise ValueError, big ints and non-str keys encode as json does."""
    assert outcome(stdlib_json, message) == outcome(encode_json, message)


def test_encode_json_refuses_non_finite_floats_clearly() -> None:
    """NaN and ±inf anywhere raise ValueError (orjson would write null)."""
    for bad in (float("nan"), float("inf"), -math.inf):
        with pytest.raises(ValueError, match="not JSON compliant"):
            encode_json({"deep": [{"x": bad}]})


def test_encode_json_edge_cases_fall_back_to_stdlib() -> None:
    """Values orjson refuses or would spell differently come out as json writes them."""

    class Text(str):
        pass

    cases: list[dict[Any, Any]] = [
        {"int": 2**64, "neg": -(2**63) - 1},  # beyond orjson's 64-bit ints
        {1: "a", None: "b", False: "c", 2.5: "d"},  # non-str keys
        {"s": Text("sub")},  # a str subclass
        {"deep": _nested(300)},  # past orjson's 255 levels
        {"tiny": 1e-05, "tinier": -3e-09},
        {"id": None},
    ]
    for message in cases:
        assert stdlib_json(message) == encode_json(message)
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate, as before
        encode_json({"s": "\ud800"})
    for refused in ({"d": datetime.datetime(2025, 1, 1)}, {"set": {1}}, {"q": BTC}):
        with pytest.raises(TypeError):
            encode_json(refused)


def _nested(depth: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(depth):
        value = [value]
    return value


# The encoder as it was before orjson (commit 0c594d4): the reference for quotes.
_REF_PRICE_LIKE = frozenset(
    ("day_high", "day_low", "change", "open_price", "previous_close", "strike_price", "bid", "ask")
)
_REF_SPECIAL = frozenset(
    ("symbol", "price", "source", "ts_upstream", "ts_library_in", "payload", "price_hint")
)
_REF_F32 = struct.Struct("<f")


def reference_quote_message(quote: Quote, ts_library_out: int, message_type: str) -> bytes:
    """The quote message as the stdlib-only encoder built and wrote it."""
    decimals = quote.price_hint if quote.price_hint is not None else 2
    price = round(quote.price, decimals)
    message: dict[str, Any] = {
        "type": message_type,
        "symbol": quote.symbol,
        "price": price if math.isfinite(price) else None,
    }
    for field in dataclasses.fields(Quote):
        if field.name in _REF_SPECIAL:
            continue
        value = getattr(quote, field.name)
        if value is None:
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                continue
            if field.name in _REF_PRICE_LIKE:
                value = round(value, decimals)
            elif field.name == "change_percent":
                value = reference_shortest_float32(value)
        elif isinstance(value, enum.Enum):
            value = value.name
        message[field.name] = value
    if quote.price_hint is not None:
        message["price_hint"] = quote.price_hint
    message["source"] = quote.source
    message["ts_upstream"] = quote.ts_upstream
    message["ts_library_in"] = quote.ts_library_in
    message["ts_library_out"] = ts_library_out
    return stdlib_json(message)


def reference_shortest_float32(value: float) -> float:
    """The shortest decimal that is the same float32 as `value` (reference version)."""
    try:
        as32 = _REF_F32.unpack(_REF_F32.pack(value))[0]
    except OverflowError:
        return value
    if as32 != value:
        return value
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if _REF_F32.unpack(_REF_F32.pack(candidate))[0] == value:
            return candidate
    return value


def _field_strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of one `Quote` field from its annotation (None included when optional)."""
    parts = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    options: list[st.SearchStrategy[Any]] = []
    for part in parts:
        if part is type(None):
            options.append(st.none())
        elif part is float:
            options.append(ANY_FLOATS)
        elif part is int:
            options.append(st.integers(-(2**63), 2**64) | st.integers())
        elif part is str:
            options.append(st.text())
        elif isinstance(part, type) and issubclass(part, enum.Enum):
            options.append(st.sampled_from(part))
        elif part is bytes:
            options.append(st.binary(max_size=6))
        else:  # Literal["stream", "poll"]
            options.append(st.sampled_from(typing.get_args(part)))
    return st.one_of(options)


_HINTS = typing.get_type_hints(Quote)
QUOTES = st.builds(
    Quote,
    **{name: _field_strategy(hint) for name, hint in _HINTS.items() if name != "price_hint"},
    price_hint=st.none() | st.integers(0, 12),
)


@settings(max_examples=200)
@given(QUOTES, st.integers(0, 2**64), st.sampled_from(["quote", "snapshot"]))
@example(BTC, 1761785160123999, "quote")
@example(
    Quote("SHIB-USD", 1.2345e-05, 1, 2, change=-3e-07, price_hint=8, short_name="Large-Cap"),
    3,
    "quote",
)
@example(Quote("X", float("nan"), 1, 2, bid=float("inf"), day_volume=2**70), 3, "snapshot")
def test_quote_message_is_byte_identical_to_the_stdlib_encoder(
    quote: Quote, ts_library_out: int, message_type: str
) -> None:
    """Any quote encodes to exactly the bytes the stdlib-only encoder wrote."""
    expected = outcome(lambda q: reference_quote_message(q, ts_library_out, message_type), quote)
    actual = outcome(
        lambda q: encode_quote_message(q, ts_library_out, message_type=message_type), quote
    )
    assert expected == actual


def test_quote_message_from_mistyped_fields_matches_the_reference() -> None:
    """Floats, bools or enums in fields typed otherwise still encode as before."""

    class Level(enum.Enum):
        HIGH = "high"

    quote = Quote(
        "X",
        1.0,
        1,
        2,
        day_volume=float("nan"),  # type: ignore[arg-type]
        short_name=Level.HIGH,  # type: ignore[arg-type]
        exchange=True,  # type: ignore[arg-type]
        open_interest=1e-06,  # type: ignore[arg-type]
    )
    assert reference_quote_message(quote, 3, "quote") == encode_quote_message(quote, 3)
