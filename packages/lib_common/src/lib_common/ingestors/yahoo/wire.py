"""Protobuf wire format of Yahoo's PricingData, hand-written for the hot path.

PricingData has a fixed, flat schema of scalars (proto/yahoo/pricing.proto), so one table
of (field number, name, kind) drives both directions. This is about four times faster
than the generic betterproto2 runtime; the generated classes in `_generated/` stay the
schema's reference and the tests check that both agree, byte for byte and value for value.

Rules, from the protobuf encoding spec (protobuf.dev/programming-guides/encoding):
- proto3 scalars have no presence: a zero value and an absent field are the same thing,
  so decoding reports only non-zero fields and encoding writes only non-zero ones;
- when a field repeats, the last value wins;
- unknown field numbers are skipped (wire types 0, 1, 2, 5); groups (3, 4) are rejected;
- a known field number arriving with another wire type is an error: this schema never
  changes a field's type, so it means corruption rather than a newer schema;
- strings must be valid UTF-8; varints are at most 10 bytes and keep their low 64 bits.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "FIELDS",
    "FIELD_NAMES",
    "WireError",
    "decode_fields",
    "decode_values",
    "encode_fields",
]


class WireError(ValueError):
    """The bytes are not a valid PricingData encoding."""


# Field kinds: how a value is carried on the wire. The numbering serves the decoder's
# dispatch order: floats are most common, then varints (kind <= INT32).
FLOAT: Final = 0  # wire type 5, little-endian float32
SINT64: Final = 1  # wire type 0, zigzag varint
INT32: Final = 2  # wire type 0, two's complement varint (negatives take 10 bytes)
STRING: Final = 3  # wire type 2, UTF-8
DOUBLE: Final = 4  # wire type 1, little-endian float64

_WIRE_TYPE: Final = {STRING: 2, FLOAT: 5, DOUBLE: 1, SINT64: 0, INT32: 0}

FIELDS: Final[tuple[tuple[int, str, int], ...]] = (
    (1, "id", STRING),
    (2, "price", FLOAT),
    (3, "time", SINT64),
    (4, "currency", STRING),
    (5, "exchange", STRING),
    (6, "quote_type", INT32),
    (7, "market_hours", INT32),
    (8, "change_percent", FLOAT),
    (9, "day_volume", SINT64),
    (10, "day_high", FLOAT),
    (11, "day_low", FLOAT),
    (12, "change", FLOAT),
    (13, "short_name", STRING),
    (14, "expire_date", SINT64),
    (15, "open_price", FLOAT),
    (16, "previous_close", FLOAT),
    (17, "strike_price", FLOAT),
    (18, "underlying_symbol", STRING),
    (19, "open_interest", SINT64),
    (20, "options_type", SINT64),
    (21, "mini_option", SINT64),
    (22, "last_size", SINT64),
    (23, "bid", FLOAT),
    (24, "bid_size", SINT64),
    (25, "ask", FLOAT),
    (26, "ask_size", SINT64),
    (27, "price_hint", SINT64),
    (28, "vol_24hr", SINT64),
    (29, "vol_all_currencies", SINT64),
    (30, "from_currency", STRING),
    (31, "last_market", STRING),
    (32, "circulating_supply", DOUBLE),
    (33, "market_cap", DOUBLE),
)
FIELD_NAMES: Final = tuple(name for _, name, _ in FIELDS)

_MASK64: Final = (1 << 64) - 1
_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_INT32_MIN: Final = -(1 << 31)
_INT32_MAX: Final = (1 << 31) - 1

_F32: Final = struct.Struct("<f")
_F64: Final = struct.Struct("<d")

# Full tag (number << 3 | wire type) -> (number, kind): one dict lookup per field.
_BY_TAG: Final = {(n << 3) | _WIRE_TYPE[kind]: (n, kind) for n, _, kind in FIELDS}
_SLOTS: Final = FIELDS[-1][0] + 1
_EXPECTED_WIRE_TYPE: Final = {n: _WIRE_TYPE[kind] for n, _, kind in FIELDS}


def _varint_bytes(value: int) -> bytes:
    """Encode a non-negative integer below 2**64 as a base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_TAG_BYTES: Final = {name: _varint_bytes((n << 3) | _WIRE_TYPE[kind]) for n, name, kind in FIELDS}


def _read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a varint at `pos`; return (value masked to 64 bits, next position)."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


def _skip_unknown(data: bytes, pos: int, end: int, tag: int) -> int:
    """Skip the value of a field this schema does not know; return the next position."""
    number = tag >> 3
    wire_type = tag & 7
    if number == 0:
        raise WireError("field number 0")
    expected = _EXPECTED_WIRE_TYPE.get(number)
    if expected is not None:
        raise WireError(f"field {number} has wire type {wire_type}, expected {expected}")
    if wire_type == 0:
        _, pos = _read_varint(data, pos, end)
    elif wire_type == 1:
        pos += 8
    elif wire_type == 2:
        length, pos = _read_varint(data, pos, end)
        pos += length
    elif wire_type == 5:
        pos += 4
    else:
        raise WireError(f"unsupported wire type {wire_type} (field {number})")
    if pos > end:
        raise WireError(f"truncated field {number}")
    return pos


def decode_values(data: bytes) -> list[Any]:
    """Decode PricingData bytes into a list indexed by field number (index 0 unused).

    Absent and zero fields are None. Integers come back as Python ints (sint64
    unzigzagged, int32 sign-extended), floats as Python floats (float32 widened exactly),
    strings as str. Raises WireError. This is the hot path: varints are read inline and
    truncation inside a value surfaces as IndexError/struct.error, mapped once below.
    """
    values: list[Any] = [None] * _SLOTS
    by_tag = _BY_TAG
    unpack_f32 = _F32.unpack_from
    unpack_f64 = _F64.unpack_from
    end = len(data)
    pos = 0
    try:
        while pos < end:
            tag = data[pos]
            pos += 1
            if tag >= 0x80:  # field numbers above 15 take a two-byte tag
                tag, pos = _read_varint(data, pos - 1, end)
            spec = by_tag.get(tag)
            if spec is None:
                pos = _skip_unknown(data, pos, end, tag)
                continue
            number, kind = spec
            value: Any
            if kind == FLOAT:
                value = unpack_f32(data, pos)[0]
                pos += 4
            elif kind <= INT32:  # SINT64 or INT32: a varint, read inline
                byte = data[pos]
                pos += 1
                raw = byte & 0x7F
                shift = 7
                while byte >= 0x80:
                    if shift >= 70:
                        raise WireError(f"varint longer than 10 bytes in field {number}")
                    byte = data[pos]
                    pos += 1
                    raw |= (byte & 0x7F) << shift
                    shift += 7
                if kind == SINT64:
                    raw &= _MASK64
                    value = (raw >> 1) ^ -(raw & 1)
                else:  # int32 keeps the low 32 bits of the sign-extended varint
                    value = ((raw + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            elif kind == STRING:
                length = data[pos]
                pos += 1
                if length >= 0x80:
                    length, pos = _read_varint(data, pos - 1, end)
                stop = pos + length
                if stop > end:
                    raise WireError(f"truncated string in field {number}")
                value = data[pos:stop].decode()
                pos = stop
            else:  # DOUBLE
                value = unpack_f64(data, pos)[0]
                pos += 8
            # proto3: zero means absent; a repeated field's last value wins.
            values[number] = value or None
    except (IndexError, struct.error):
        raise WireError("truncated field value") from None
    except UnicodeDecodeError:
        raise WireError("string field is not valid UTF-8") from None
    return values


def decode_fields(data: bytes) -> dict[str, Any]:
    """Decode PricingData bytes into {field name: value} for the non-zero fields."""
    values = decode_values(data)
    return {name: values[n] for n, name, _ in FIELDS if values[n] is not None}


def _pack_float32(value: float) -> bytes:
    """float32 bytes; values beyond float32's range become ±inf, as protobuf does."""
    try:
        return _F32.pack(value)
    except OverflowError:
        return _F32.pack(float("inf") if value > 0 else float("-inf"))


def encode_fields(values: Mapping[str, Any]) -> bytes:
    """Encode {field name: value} as PricingData bytes in field-number order.

    None, zero and "" are proto3 defaults and are not written. Raises ValueError for an
    integer outside its field's range or a string that cannot be UTF-8 encoded.
    """
    out = bytearray()
    for _, name, kind in FIELDS:
        value = values.get(name)
        if not value:
            continue
        out += _TAG_BYTES[name]
        if kind == FLOAT:
            out += _pack_float32(value)
        elif kind == SINT64:
            value = int(value)
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise ValueError(f"{name}={value} is outside sint64")
            out += _varint_bytes(((value << 1) ^ (value >> 63)) & _MASK64)
        elif kind == STRING:
            encoded = value.encode()
            out += _varint_bytes(len(encoded))
            out += encoded
        elif kind == INT32:
            value = int(value)
            if not _INT32_MIN <= value <= _INT32_MAX:
                raise ValueError(f"{name}={value} is outside int32")
            out += _varint_bytes(value & _MASK64)
        else:  # DOUBLE
            out += _F64.pack(value)
    return bytes(out)
