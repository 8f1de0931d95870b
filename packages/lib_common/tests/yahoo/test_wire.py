"""Tests for lib_common.ingestors.yahoo.wire: the fast decoder agrees with betterproto2."""

from __future__ import annotations

import dataclasses
from typing import Any

import betterproto2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.ingestors.yahoo._generated.yahoo import PricingData
from lib_common.ingestors.yahoo.wire import (
    DOUBLE,
    FIELDS,
    FLOAT,
    INT32,
    SINT64,
    STRING,
    WireError,
    decode_fields,
    encode_fields,
)

PROTO_TYPE = {
    STRING: betterproto2.TYPE_STRING,
    FLOAT: betterproto2.TYPE_FLOAT,
    DOUBLE: betterproto2.TYPE_DOUBLE,
    SINT64: betterproto2.TYPE_SINT64,
    INT32: betterproto2.TYPE_INT32,
}
VALUES = {
    STRING: st.text(max_size=12),
    FLOAT: st.floats(width=32, allow_nan=False),
    DOUBLE: st.floats(allow_nan=False),
    SINT64: st.integers(-(2**63), 2**63 - 1),
    INT32: st.integers(-(2**31), 2**31 - 1),
}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """A random subset of PricingData's fields with random in-range values."""
    return {name: draw(VALUES[kind]) for _, name, kind in FIELDS if draw(st.booleans())}


def non_zero(values: dict[str, Any]) -> dict[str, Any]:
    """The fields proto3 puts on the wire."""
    return {name: value for name, value in values.items() if value}


def fields_of(message: PricingData) -> dict[str, Any]:
    """The non-zero fields of a betterproto2 message, by name."""
    return non_zero({name: getattr(message, name) for _, name, _ in FIELDS})


def test_table_matches_the_generated_schema() -> None:
    """wire.FIELDS has the number, name and type of every generated PricingData field."""
    generated = {
        f.name: (f.metadata["betterproto"].number, f.metadata["betterproto"].proto_type)
        for f in dataclasses.fields(PricingData)
    }
    table = {name: (number, PROTO_TYPE[kind]) for number, name, kind in FIELDS}
    assert generated == table


def test_golden_frames_agree_with_betterproto2(golden_payloads: list[bytes]) -> None:
    """The fast decoder and betterproto2 read the same values from every golden frame."""
    for payload in golden_payloads:
        reference = PricingData.parse(payload)
        assert fields_of(reference) == decode_fields(payload)
        assert payload == bytes(reference)
        assert payload == encode_fields(decode_fields(payload))


@given(messages())
def test_fast_encoder_matches_betterproto2_bytes(values: dict[str, Any]) -> None:
    """For any message, encode_fields and betterproto2 produce identical bytes."""
    assert bytes(PricingData(**values)) == encode_fields(values)


@given(messages())
def test_fast_decoder_matches_betterproto2_values(values: dict[str, Any]) -> None:
    """For any message betterproto2 encodes, both decoders read the same fields."""
    payload = bytes(PricingData(**values))
    assert fields_of(PricingData.parse(payload)) == decode_fields(payload)
    assert non_zero(values) == decode_fields(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x0a\x05AB", "truncated string"),
        (b"\x15\x00", "truncated field value"),
        (b"\x48" + b"\x80" * 10 + b"\x01", "varint longer than 10 bytes"),
        (b"\x0b", "field 1 has wire type 3"),
        (b"\x93\x02", "unsupported wire type 3"),
        (b"\x00", "field number 0"),
        (b"\x92\x02\x05ab", "truncated field 34"),
        (b"\x0a\x01\xff", "not valid UTF-8"),
    ],
)
def test_invalid_encodings_raise_wire_error(payload: bytes, message: str) -> None:
    """Each invalid encoding raises WireError with a message naming the problem."""
    with pytest.raises(WireError, match=message):
        decode_fields(payload)


def test_negative_int32_uses_ten_bytes_and_decodes_back() -> None:
    """A negative int32 is a sign-extended 10-byte varint, read back as the same int."""
    payload = encode_fields({"quote_type": -1})
    assert payload == b"\x30" + b"\xff" * 9 + b"\x01"
    assert decode_fields(payload) == {"quote_type": -1}
