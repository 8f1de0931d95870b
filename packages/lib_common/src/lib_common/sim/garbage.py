"""Malformed and surprising streamer frames for the `garbage` fault (sans-I/O).

Each variant mimics one way a real upstream frame can go wrong. The first four fail to
decode (`DecodeError` in the codec); `unknown_fields` and `unknown_enum` are valid frames
with things a strict decoder would choke on (field numbers and enum values newer than the
schema) and must decode to quotes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from lib_common.ingestors.yahoo.codec import encode_pricing, envelope_frame, legacy_frame
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.net import binary_frame, text_frame
from lib_common.sim.faults import GarbageVariant

__all__ = ["MIXED_ORDER", "garbage_frame"]

MIXED_ORDER: Final[tuple[GarbageVariant, ...]] = (
    "bad_json",
    "bad_base64",
    "bad_protobuf",
    "unknown_fields",
    "unknown_enum",
    "binary_frame",
)
# Field 34 (varint 5) and field 40 (length-delimited "new"): numbers beyond the schema.
_UNKNOWN_FIELDS: Final = bytes([0x90, 0x02, 0x05, 0xC2, 0x02, 0x03]) + b"new"
# Field 1 (string) claiming 32 bytes with only 2 present: truncated protobuf.
_TRUNCATED: Final = b"\x0a\x20AA"
# A varint that never ends: not PricingData, not base64, not JSON.
_JUNK: Final = b"\xff" * 12


def garbage_frame(variant: GarbageVariant, quote: Quote, *, legacy: bool) -> bytes:
    """A complete server WebSocket frame of the given garbage variant (not "mixed")."""
    wrap = legacy_frame if legacy else envelope_frame
    text: str
    if variant == "bad_json":
        text = '{"type":"pricing","message":"' + legacy_frame(encode_pricing(quote))[:12]
    elif variant == "bad_base64":
        text = "***not-base64***" if legacy else '{"type":"pricing","message":"***not-base64***"}'
    elif variant == "bad_protobuf":
        text = wrap(_TRUNCATED)
    elif variant == "unknown_fields":
        text = wrap(encode_pricing(quote) + _UNKNOWN_FIELDS)
    elif variant == "unknown_enum":
        # QuoteType 43 and MarketHours 4 ("overnight") are values reported but not in the schema.
        text = wrap(encode_pricing(replace(quote, quote_type=43, market_hours=4)))
    elif variant == "binary_frame":
        return binary_frame(_JUNK)
    else:
        raise ValueError(f"no single frame for garbage variant {variant!r}")
    return text_frame(text.encode())
