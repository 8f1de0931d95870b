"""Garbage frames: the malformed ones fail to decode, the surprising ones still decode."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from lib_common.ingestors.yahoo.codec import DecodeError, decode_frame
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import ManualClock, Market
from lib_common.sim.faults import GarbageVariant
from lib_common.sim.garbage import garbage_frame


def unframe(frame: bytes) -> str | bytes:
    reader = StreamReader()
    reader.feed_data(frame)
    parser = Frame.parse(reader.read_exact, mask=False, max_size=None)
    try:
        next(parser)
    except StopIteration as done:
        parsed: Frame = done.value
        return parsed.data.decode() if parsed.opcode is Opcode.TEXT else bytes(parsed.data)
    raise AssertionError("incomplete frame")


QUOTE = Market(0, ManualClock(), frozenset()).step("AAPL")


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize(
    ("variant", "kind"),
    [
        ("bad_json", "json"),
        ("bad_base64", "base64"),
        ("bad_protobuf", "protobuf"),
        ("binary_frame", "protobuf"),
    ],
)
def test_malformed_variants_fail_to_decode(
    variant: GarbageVariant, kind: str, legacy: bool
) -> None:
    """bad_json, bad_base64, bad_protobuf and binary_frame decode to the matching DecodeError."""
    result = decode_frame(unframe(garbage_frame(variant, QUOTE, legacy=legacy)), 0)
    assert isinstance(result, DecodeError)
    assert result.kind == kind


@pytest.mark.parametrize("legacy", [False, True])
def test_unknown_fields_are_tolerated(legacy: bool) -> None:
    """A frame with field numbers beyond the schema still decodes to the quote."""
    result = decode_frame(unframe(garbage_frame("unknown_fields", QUOTE, legacy=legacy)), 0)
    assert isinstance(result, Quote)
    assert (result.symbol, result.price_hint) == ("AAPL", 2)


@pytest.mark.parametrize("legacy", [False, True])
def test_unknown_enums_stay_ints(legacy: bool) -> None:
    """QuoteType 43 and MarketHours 4 decode as plain ints."""
    result = decode_frame(unframe(garbage_frame("unknown_enum", QUOTE, legacy=legacy)), 0)
    assert isinstance(result, Quote)
    assert (result.quote_type, result.market_hours) == (43, 4)


def test_mixed_is_not_a_single_frame() -> None:
    """ "mixed" is a rotation, resolved by the simulator, not a frame shape."""
    with pytest.raises(ValueError):
        garbage_frame("mixed", QUOTE, legacy=False)
