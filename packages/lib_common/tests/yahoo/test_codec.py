"""Tests for lib_common.ingestors.yahoo.codec: golden frames, round trips, fuzzing."""

from __future__ import annotations

import base64
import dataclasses
import json
import string
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_common.ingestors.yahoo import codec
from lib_common.ingestors.yahoo.codec import (
    DecodeError,
    Skip,
    decode_frame,
    decode_pricing,
    encode_pricing,
    envelope_frame,
    legacy_frame,
    payload_or_encode,
)
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

INT64 = st.integers(-(2**63), 2**63 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)
FLOAT32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
TEXT = st.text(max_size=20)
FLOAT_FIELDS = (
    "day_high",
    "day_low",
    "open_price",
    "previous_close",
    "strike_price",
    "bid",
    "ask",
)
INT_FIELDS = (
    "day_volume",
    "expire_date",
    "open_interest",
    "options_type",
    "mini_option",
    "last_size",
    "bid_size",
    "ask_size",
    "price_hint",
    "vol_24hr",
    "vol_all_currencies",
)
STR_FIELDS = ("currency", "exchange", "short_name", "underlying_symbol", "from_currency")
REQUIRED = ("symbol", "price", "ts_upstream", "ts_library_in", "source", "payload")
OPTIONAL_FIELDS = tuple(f.name for f in dataclasses.fields(Quote) if f.name not in REQUIRED)
QUOTE_TYPES = {member.value for member in QuoteType}
MARKET_HOURS = {member.value for member in MarketHours}
BASE64_ALPHABET = string.ascii_letters + string.digits + "+/="


def f32(value: float) -> float:
    """`value` rounded to the nearest float32."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def field(number: int, wire_type: int, body: bytes) -> bytes:
    """One encoded protobuf field (tag below 2**14, enough for these tests)."""
    tag = (number << 3) | wire_type
    head = bytes([tag]) if tag < 0x80 else bytes([(tag & 0x7F) | 0x80, tag >> 7])
    return head + body


def varint(value: int) -> bytes:
    """Base-128 varint of a non-negative integer."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    """Arbitrary quotes whose values all fit PricingData (float32, int64, whole ms)."""
    values: dict[str, Any] = {
        "symbol": draw(TEXT),
        "price": draw(FLOAT32),
        "ts_upstream": draw(INT64) * 1000,
        "ts_library_in": draw(st.integers(0, 2**62)),
        "quote_type": draw(st.none() | st.sampled_from(QuoteType) | INT32),
        "market_hours": draw(st.none() | st.sampled_from(MarketHours) | INT32),
        "change": draw(st.none() | FLOAT32),
        "change_percent": draw(st.none() | FLOAT32),
        "last_market": draw(st.none() | TEXT),
        "circulating_supply": draw(st.none() | st.floats(allow_nan=False)),
        "market_cap": draw(st.none() | st.floats(allow_nan=False)),
    }
    for name in FLOAT_FIELDS:
        values[name] = draw(st.none() | FLOAT32)
    for name in INT_FIELDS:
        values[name] = draw(st.none() | INT64)
    for name in STR_FIELDS:
        values[name] = draw(st.none() | TEXT)
    return Quote(**values)


def as_decoded(quote: Quote, received_us: int) -> Quote:
    """What `quote` reads as after a trip over the wire (the documented proto3 mapping)."""
    changes: dict[str, Any] = {"ts_library_in": received_us}
    for name in OPTIONAL_FIELDS:
        value = getattr(quote, name)
        if name in ("change", "change_percent"):
            changes[name] = value or 0.0
        elif name == "market_hours":
            value = value or 0
            changes[name] = MarketHours(value) if value in MARKET_HOURS else value
        elif name == "quote_type":
            changes[name] = QuoteType(value) if value and value in QUOTE_TYPES else value or None
        else:
            changes[name] = value or None
    return dataclasses.replace(quote, **changes)


def assert_value(result: object) -> None:
    """The codec's contract: one of its three result types, never an internal error."""
    assert isinstance(result, Quote | Skip | DecodeError)
    if isinstance(result, DecodeError):
        assert result.kind != "internal", result.reason


# --- golden frames -------------------------------------------------------------------


def test_golden_frame_decodes_to_every_expected_value(
    golden: str, expected_quotes: dict[str, Quote], received_us: int
) -> None:
    """Each golden base64 frame decodes to exactly the expected Quote, field by field."""
    quote = decode_frame(golden, received_us)
    assert isinstance(quote, Quote)
    assert expected_quotes[golden] == quote
    assert base64.b64decode(golden) == quote.payload


def test_golden_frame_matches_the_reference_listing(
    golden: str, listed_values: dict[str, dict[str, str]], received_us: int
) -> None:
    """Every value the reference lists matches at the precision it is listed with."""
    quote = decode_frame(golden, received_us)
    assert isinstance(quote, Quote)
    for name, listed in listed_values[golden].items():
        actual = getattr(quote, name)
        if isinstance(actual, float):
            digits = len(listed.partition(".")[2])
            assert float(listed) == round(actual, digits), name
        elif isinstance(actual, int):
            assert int(listed) == actual, name
        else:
            assert listed == actual, name


def test_golden_envelope_legacy_and_binary_decode_alike(golden: str, received_us: int) -> None:
    """The envelope text, bare base64 and raw binary forms of a frame give one Quote."""
    payload = base64.b64decode(golden)
    envelope = '{"type":"pricing","message":"' + golden + '"}'
    results = [
        decode_frame(envelope, received_us),
        decode_frame(golden, received_us),
        decode_frame(payload, received_us),
        decode_frame(envelope.encode(), received_us),
        decode_frame(golden.encode(), received_us),
        decode_frame(bytearray(payload), received_us),
        decode_frame(memoryview(payload), received_us),
    ]
    assert all(isinstance(r, Quote) and r.payload == payload for r in results)
    assert len(set(results)) == 1


def test_golden_payload_re_encodes_byte_identical(golden: str, received_us: int) -> None:
    """encode_pricing of a decoded golden frame reproduces Yahoo's bytes exactly."""
    payload = base64.b64decode(golden)
    quote = decode_pricing(payload, received_us)
    assert isinstance(quote, Quote)
    assert payload == encode_pricing(quote)


def test_float_fields_are_float32_widened_and_ints_are_ints(received_us: int) -> None:
    """232.35 arrives as 232.35000610351562; int64 fields are Python ints, not strings."""
    quote = Quote("X", 232.35, 1000, 0, day_volume=2**40, market_cap=1.1)
    decoded = decode_pricing(encode_pricing(quote), received_us)
    assert isinstance(decoded, Quote)
    assert decoded.price == 232.35000610351562
    assert decoded.day_volume == 2**40
    assert decoded.market_cap == 1.1  # double fields keep full precision


# --- mapping rules ---------------------------------------------------------------------


def test_absent_fields_follow_the_documented_defaults(received_us: int) -> None:
    """Absent id/price/time/change read "", 0.0, 0, 0.0; market_hours PRE_MARKET; rest None."""
    quote = decode_pricing(b"", received_us)
    assert isinstance(quote, Quote)
    assert ("", 0.0, 0, received_us) == (
        quote.symbol,
        quote.price,
        quote.ts_upstream,
        quote.ts_library_in,
    )
    assert (quote.change, quote.change_percent) == (0.0, 0.0)
    assert MarketHours.PRE_MARKET is quote.market_hours
    assert quote.quote_type is None
    assert quote.day_volume is None
    assert quote.currency is None
    assert quote.day_high is None


def test_unknown_enum_values_stay_plain_ints(received_us: int) -> None:
    """QuoteType 43-46 and MarketHours 4 are tolerated and kept as ints."""
    for quote_type in (43, 44, 45, 46):
        payload = field(1, 2, b"\x04AAPL") + field(6, 0, varint(quote_type)) + field(7, 0, b"\x04")
        quote = decode_pricing(payload, received_us)
        assert isinstance(quote, Quote)
        assert quote_type == quote.quote_type
        assert type(quote.quote_type) is int
        assert quote.market_hours == 4
        assert type(quote.market_hours) is int


def test_known_enum_values_become_members(received_us: int) -> None:
    """Known QuoteType/MarketHours values are returned as the IntEnum members."""
    payload = field(1, 2, b"\x01X") + field(6, 0, varint(41)) + field(7, 0, varint(2))
    quote = decode_pricing(payload, received_us)
    assert isinstance(quote, Quote)
    assert QuoteType.CRYPTOCURRENCY is quote.quote_type
    assert MarketHours.POST_MARKET is quote.market_hours


def test_unknown_fields_are_skipped_and_kept_in_the_payload(
    golden: str, expected_quotes: dict[str, Quote], received_us: int
) -> None:
    """Fields 34+ of every wire type are skipped; the payload still holds them verbatim."""
    extra = (
        field(34, 0, varint(2**40))
        + field(35, 1, b"\x00" * 8)
        + field(36, 2, b"\x03abc")
        + field(37, 5, b"\x01\x02\x03\x04")
        + field(1000, 0, b"\x01")
    )
    payload = base64.b64decode(golden) + extra
    quote = decode_frame(payload, received_us)
    assert expected_quotes[golden] == quote
    assert isinstance(quote, Quote)
    assert payload == quote.payload


def test_repeated_field_last_value_wins(received_us: int) -> None:
    """A field that appears twice takes its last value, and a last zero clears it."""
    payload = (
        field(1, 2, b"\x01A")
        + field(1, 2, b"\x01B")
        + field(9, 0, varint(10))
        + field(10, 5, struct.pack("<f", 5.0))
        + field(10, 5, struct.pack("<f", 0.0))
    )
    quote = decode_pricing(payload, received_us)
    assert isinstance(quote, Quote)
    assert quote.symbol == "B"
    assert quote.day_volume == 5
    assert quote.day_high is None


def test_decode_pricing_stamps_source_and_received_time() -> None:
    """`source` and `received_us` are copied onto the Quote; ts_upstream is ms × 1000."""
    quote = decode_pricing(field(1, 2, b"\x01A") + field(3, 0, varint(2 * 5)), 42, source="poll")
    assert isinstance(quote, Quote)
    assert (quote.source, quote.ts_library_in, quote.ts_upstream) == ("poll", 42, 5000)


def test_keyword_fallback_builds_the_same_quote(
    golden: str,
    expected_quotes: dict[str, Quote],
    received_us: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If Quote's field order ever changed, the keyword path builds the same Quote."""
    monkeypatch.setattr(codec, "_POSITIONAL", False)
    assert expected_quotes[golden] == decode_frame(golden, received_us)


def test_quote_field_order_allows_the_positional_fast_path() -> None:
    """Quote's fields line up with PricingData's numbers, so the fast path is in use."""
    assert codec._POSITIONAL


# --- frame forms and skips ---------------------------------------------------------------


def test_envelope_with_escapes_whitespace_or_key_order_uses_json(received_us: int) -> None:
    """Envelopes not byte-identical to Yahoo's layout still decode through json."""
    b64 = legacy_frame(encode_pricing(Quote("A/B", 1.5, 0, 0)))
    forms = [
        json.dumps({"message": b64, "type": "pricing"}),
        json.dumps({"type": "pricing", "message": b64}, indent=2),
        '{"type":"pricing","message":"' + b64.replace("/", "\\/") + '"}',
        '  {"type":"pricing","message":"' + b64 + '","extra":1}\n',
    ]
    for form in forms:
        quote = decode_frame(form, received_us)
        assert isinstance(quote, Quote), form
        assert quote.symbol == "A/B"


def test_other_envelope_types_are_skipped(received_us: int) -> None:
    """`{"type":"<not pricing>"}` is a Skip of kind message_type, not an error."""
    result = decode_frame('{"type":"news","message":"abc"}', received_us)
    assert isinstance(result, Skip)
    assert result.kind == "message_type"


def test_heartbeat_and_empty_id_quotes_are_skipped(received_us: int) -> None:
    """HEARTBEAT quotes and quotes without an id carry nothing to forward: Skip."""
    heartbeat = encode_pricing(Quote("AAPL", 0.0, 1000, 0, quote_type=QuoteType.HEARTBEAT))
    no_id = encode_pricing(Quote("", 10.0, 1000, 0))
    result = decode_frame(envelope_frame(heartbeat), received_us)
    assert isinstance(result, Skip)
    assert result.kind == "heartbeat"
    for frame in (legacy_frame(no_id), '{"type":"pricing","message":""}'):
        result = decode_frame(frame, received_us)
        assert isinstance(result, Skip)
        assert result.kind == "empty_id"
    assert isinstance(decode_pricing(heartbeat, received_us), Quote)  # the raw decoder keeps it


def test_legacy_base64_without_padding_decodes(received_us: int) -> None:
    """Base64 with its '=' padding stripped is tolerated."""
    quote = Quote("MSFT", f32(177.42), 1000, 0)
    b64 = legacy_frame(encode_pricing(quote))
    assert b64.endswith("=")
    assert as_decoded(quote, received_us) == decode_frame(b64.rstrip("="), received_us)


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ("", "input"),
        (b"", "input"),
        ("   ", "input"),
        ("{", "json"),
        ('{"type":"pricing"', "json"),
        ("{" + '"a":[' * 100_000, "json"),
        ("[1,2]", "base64"),
        ('{"message":"CgFB"}', "envelope"),
        ('{"type":7,"message":"CgFB"}', "envelope"),
        ('{"type":"pricing"}', "envelope"),
        ('{"type":"pricing","message":5}', "envelope"),
        ('{"type":"pricing","message":"C*FB"}', "base64"),
        ("not base64!", "base64"),
        ("CgFBé", "base64"),
        ("A", "base64"),
        (b"{\xff}", "json"),
        ("CgFB" + "E" * 3, "protobuf"),
        (b"\x0a\x05AB", "protobuf"),
        (b"\x12\x00\x00\x00\x00", "protobuf"),
        (b"\x0b", "protobuf"),
        (b"\x00\x01", "protobuf"),
        (b"\x0a\x02\xff\xfe", "protobuf"),
        (b"\x48" + b"\xff" * 10 + b"\x01", "protobuf"),
        (b"\x15\x00\x00", "protobuf"),
        (b"\x89\x02" + b"\x00" * 7, "protobuf"),
    ],
)
def test_malformed_frames_are_decode_errors_of_the_right_kind(
    frame: str | bytes, kind: str, received_us: int
) -> None:
    """Each malformed input becomes a DecodeError naming the layer that failed."""
    result = decode_frame(frame, received_us)
    assert isinstance(result, DecodeError), result
    assert kind == result.kind, result.reason


def test_wrong_input_types_are_decode_errors(received_us: int) -> None:
    """Untyped callers passing None or an int get a DecodeError value, not an exception."""
    for frame in (None, 12, ["CgFB"]):
        result = decode_frame(frame, received_us)  # type: ignore[arg-type]
        assert isinstance(result, DecodeError)
        assert result.kind == "input"


def test_known_field_with_the_wrong_wire_type_is_an_error(received_us: int) -> None:
    """A known field number carried with another wire type means corruption."""
    result = decode_pricing(field(2, 0, varint(5)), received_us)  # price as a varint
    assert isinstance(result, DecodeError)
    assert result.kind == "protobuf"


# --- encoding --------------------------------------------------------------------------


def test_frames_have_yahoos_exact_layout() -> None:
    """envelope_frame and legacy_frame produce Yahoo's text frames byte for byte."""
    payload = b"\x0a\x04AAPL"
    assert legacy_frame(payload) == "CgRBQVBM"
    assert envelope_frame(payload) == '{"type":"pricing","message":"CgRBQVBM"}'


def test_encode_ignores_payload_and_payload_or_encode_prefers_it() -> None:
    """encode_pricing always encodes the fields; payload_or_encode forwards kept bytes."""
    fresh = Quote("AAPL", 1.0, 0, 0)
    kept = dataclasses.replace(fresh, payload=b"\x0a\x01Z")
    assert encode_pricing(fresh) == encode_pricing(kept)
    assert payload_or_encode(kept) == b"\x0a\x01Z"
    assert encode_pricing(fresh) == payload_or_encode(fresh)


def test_encode_floors_time_to_milliseconds(received_us: int) -> None:
    """ts_upstream travels as whole milliseconds (floored)."""
    decoded = decode_pricing(encode_pricing(Quote("A", 1.0, 1_999_999, 0)), received_us)
    assert isinstance(decoded, Quote)
    assert decoded.ts_upstream == 1_999_000


def test_encode_clamps_float32_overflow_to_infinity(received_us: int) -> None:
    """A price beyond float32's range encodes as ±inf, as protobuf encoders do."""
    decoded = decode_pricing(encode_pricing(Quote("A", 1e39, 0, 0, change=-1e39)), received_us)
    assert isinstance(decoded, Quote)
    assert (float("inf"), float("-inf")) == (decoded.price, decoded.change)


@pytest.mark.parametrize(
    "changes",
    [{"day_volume": 2**63}, {"ts_upstream": -(2**63) * 1000 - 1000}, {"quote_type": 2**31}],
)
def test_encode_rejects_integers_outside_their_field(changes: dict[str, int]) -> None:
    """Integers that do not fit sint64/int32 are a caller bug: ValueError."""
    with pytest.raises(ValueError):
        encode_pricing(dataclasses.replace(Quote("A", 1.0, 0, 0), **changes))


@given(quotes())
def test_encode_decode_round_trip(quote: Quote) -> None:
    """Any representable Quote survives encode → decode under the proto3 mapping."""
    payload = encode_pricing(quote)
    decoded = decode_pricing(payload, 7)
    assert as_decoded(quote, 7) == decoded
    assert isinstance(decoded, Quote)
    assert payload == decoded.payload
    assert payload == encode_pricing(decoded)


@settings(max_examples=50)  # the frame forms add little over the payload round trip
@given(quotes())
def test_frames_round_trip_through_decode_frame(quote: Quote) -> None:
    """Envelope and legacy frames of any quote decode to the same value (or a Skip)."""
    payload = encode_pricing(quote)
    from_envelope = decode_frame(envelope_frame(payload), 7)
    if payload:  # an empty text or binary frame is an input error, not an empty message
        assert from_envelope == decode_frame(legacy_frame(payload), 7)
        assert from_envelope == decode_frame(payload, 7)
    if quote.symbol and quote.quote_type != QuoteType.HEARTBEAT:
        assert as_decoded(quote, 7) == from_envelope
    else:
        assert isinstance(from_envelope, Skip)


# --- fuzzing: only values, never exceptions ---------------------------------------------


@settings(max_examples=300)
@given(st.text())
def test_fuzz_text_frames_never_raise(text: str) -> None:
    """Arbitrary text yields a Quote, Skip or DecodeError."""
    assert_value(decode_frame(text, 0))


@settings(max_examples=300)
@given(st.binary())
def test_fuzz_binary_frames_never_raise(data: bytes) -> None:
    """Arbitrary bytes yield a Quote, Skip or DecodeError."""
    assert_value(decode_frame(data, 0))
    assert_value(decode_pricing(data, 0))


def test_fuzz_every_truncation_of_golden_frames(golden_payloads: list[bytes]) -> None:
    """Every prefix of every golden frame, in every form, yields a value."""
    for payload in golden_payloads:
        for form in (payload, legacy_frame(payload), envelope_frame(payload)):
            for end in range(len(form)):
                assert_value(decode_frame(form[:end], 0))


@given(st.data())
def test_fuzz_bit_flips_in_golden_frames(golden_payloads: list[bytes], data: st.DataObject) -> None:
    """Flipping bits anywhere in a frame (raw, base64 or envelope) yields a value."""
    payload = data.draw(st.sampled_from(golden_payloads))
    form = data.draw(
        st.sampled_from([payload, legacy_frame(payload).encode(), envelope_frame(payload).encode()])
    )
    mutated = bytearray(form)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(mutated) - 1))
        mutated[index] ^= 1 << data.draw(st.integers(0, 7))
    assert_value(decode_frame(bytes(mutated), 0))
    assert_value(decode_frame(bytes(mutated).decode("latin-1"), 0))


@given(st.data())
def test_fuzz_spliced_fields_and_enum_values(
    golden_payloads: list[bytes], data: st.DataObject
) -> None:
    """Random fields (any number, wire type and body) spliced into a frame yield a value."""
    payload = data.draw(st.sampled_from(golden_payloads))
    number = data.draw(st.integers(1, 2000))
    wire_type = data.draw(st.integers(0, 7))
    body = data.draw(st.binary(max_size=12) | INT64.map(lambda n: varint(n & (2**64 - 1))))
    at = data.draw(st.integers(0, len(payload)))
    spliced = payload[:at] + field(number, wire_type, body) + payload[at:]
    for form in (spliced, legacy_frame(spliced), envelope_frame(spliced)):
        assert_value(decode_frame(form, 0))


@given(st.sampled_from(range(43, 47)) | INT32, st.sampled_from(range(5)) | INT32)
def test_fuzz_enum_values_are_kept(quote_type: int, market_hours: int) -> None:
    """Any int32 quote_type/market_hours decodes, known ones as members, others as ints."""
    payload = (
        field(1, 2, b"\x01X")
        + field(6, 0, varint(quote_type & (2**64 - 1)))
        + field(7, 0, varint(market_hours & (2**64 - 1)))
    )
    quote = decode_pricing(payload, 0)
    assert isinstance(quote, Quote)
    assert (quote_type or None) == quote.quote_type
    assert market_hours == quote.market_hours


@given(st.text(alphabet=BASE64_ALPHABET, max_size=200))
def test_fuzz_base64_alphabet_soup(text: str) -> None:
    """Strings of base64 characters (valid or not) yield values in all frame forms."""
    for form in (text, text.encode(), '{"type":"pricing","message":"' + text + '"}'):
        assert_value(decode_frame(form, 0))
