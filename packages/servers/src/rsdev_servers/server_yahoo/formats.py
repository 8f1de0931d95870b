"""Yahoo's two streamer wire formats, and which one a client speaks (sans-I/O).

- `ENVELOPE` (`ws://HOST:PORT/?version=2`, Yahoo's current streamer): each quote is a text
  frame `{"type":"pricing","message":"<base64 PricingData>"}`.
- `LEGACY` (`ws://HOST:PORT/`, the older streamer): each quote is a text frame holding the
  bare base64 string.

Both carry the same PricingData bytes; only the wrapping differs. A quote is therefore
framed at most once per format, and every client of that format gets the same frame.

Fan-out keys ("topics"): the dispatcher delivers by key, so a symbol gets one key per
format (`"v2|AAPL"`, `"legacy|AAPL"`). `|` never appears in a normalised symbol, so a
topic cannot collide with another symbol's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Final

from lib_common.ingestors.yahoo.codec import envelope_frame, legacy_frame

__all__ = ["FORMATS", "WireFormat", "format_for_query", "topic", "wrap_payload"]


class WireFormat(enum.Enum):
    """How a client wants each PricingData payload wrapped."""

    ENVELOPE = "v2"
    LEGACY = "legacy"


FORMATS: Final = (WireFormat.ENVELOPE, WireFormat.LEGACY)

_WRAP: Final[Mapping[WireFormat, Callable[[bytes], str]]] = {
    WireFormat.ENVELOPE: envelope_frame,
    WireFormat.LEGACY: legacy_frame,
}
_PREFIX: Final = {fmt: fmt.value + "|" for fmt in WireFormat}


def format_for_query(query: Mapping[str, str]) -> WireFormat:
    """`?version=2` selects the JSON envelope; anything else gets the legacy frames, as on
    Yahoo's streamer (which only knows version 2 as the newer format)."""
    version = query.get("version")
    if version is not None and version.strip() == "2":
        return WireFormat.ENVELOPE
    return WireFormat.LEGACY


def wrap_payload(fmt: WireFormat, payload: bytes) -> bytes:
    """The UTF-8 text of one quote message in `fmt` (not yet a WebSocket frame)."""
    return _WRAP[fmt](payload).encode("ascii")


def topic(fmt: WireFormat, symbol: str) -> str:
    """The dispatcher key of `symbol`'s frames in `fmt`."""
    return _PREFIX[fmt] + symbol
