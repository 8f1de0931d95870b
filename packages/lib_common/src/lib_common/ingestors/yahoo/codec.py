"""Sans-I/O codec for Yahoo streamer frames: frame in, `Quote`/`Skip`/`DecodeError` out.

No sockets, no clock: the caller stamps `received_us` when the frame arrives. Frames are
the `?version=2` JSON envelope `{"type":"pricing","message":"<base64>"}`, the legacy bare
base64 text, or a binary frame (raw PricingData bytes, or the same texts as bytes).
`decode_frame` never raises: every malformed input becomes a `DecodeError` value.

Mapping PricingData to `Quote` (proto3 cannot tell a zero from an absent field):
- `id` -> `symbol`, `time` (epoch ms) -> `ts_upstream` in µs; absent: "" and 0;
- `price`, `change`, `change_percent`: absent reads 0.0 (an unchanged price is real);
- `market_hours`: absent reads `MarketHours.PRE_MARKET`, as in every protobuf client:
  Yahoo's encoder drops the 0, so pre-market frames carry no field 7;
- every other field: absent or zero reads None;
- enums: known values become `QuoteType`/`MarketHours` members, unknown ones stay ints;
- floats are the float32 wire values widened exactly (232.35 -> 232.35000610351562);
- `payload` holds the exact PricingData bytes, for byte-identical forwarding.

`decode_frame` skips (returns `Skip`) frames that carry no quote: envelope types other
than "pricing", HEARTBEAT quotes and quotes with an empty id. A stream client may still
count them as signs of life.
"""

from __future__ import annotations

import binascii
import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any, Final, Literal

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteSource, QuoteType
from lib_common.ingestors.yahoo.wire import (
    FIELD_NAMES,
    FIELDS,
    WireError,
    decode_values,
    encode_fields,
)

__all__ = [
    "DecodeError",
    "DecodeErrorKind",
    "Skip",
    "SkipKind",
    "decode_frame",
    "decode_pricing",
    "encode_pricing",
    "envelope_frame",
    "legacy_frame",
    "payload_or_encode",
]

DecodeErrorKind = Literal["input", "json", "envelope", "base64", "protobuf", "internal"]
SkipKind = Literal["message_type", "heartbeat", "empty_id"]


@dataclasses.dataclass(frozen=True, slots=True)
class DecodeError:
    """A frame that could not be decoded.

    `kind` says which layer failed: "input" (empty frame or not str/bytes), "json" (the
    envelope is not JSON or not UTF-8), "envelope" (JSON of the wrong shape), "base64",
    "protobuf", or "internal" (a bug in this module; tests assert it never happens).
    """

    reason: str
    kind: DecodeErrorKind


@dataclasses.dataclass(frozen=True, slots=True)
class Skip:
    """A well-formed frame that carries no quote; `kind` is the machine-readable why."""

    reason: str
    kind: SkipKind


_ENVELOPE_PREFIX: Final = '{"type":"pricing","message":"'
_ENVELOPE_SUFFIX: Final = '"}'
_PREFIX_LEN: Final = len(_ENVELOPE_PREFIX)
_BASE64_BYTES: Final = re.compile(rb"[A-Za-z0-9+/]+={0,2}")

_QUOTE_TYPES: Final[dict[int, QuoteType]] = {member.value: member for member in QuoteType}
_MARKET_HOURS: Final[dict[int, MarketHours]] = {member.value: member for member in MarketHours}
# PricingData fields named like the Quote attribute they fill (all but id and time).
_SAME_NAME_FIELDS: Final = tuple(name for name in FIELD_NAMES if name not in ("id", "time"))
# Quote's parameters are (symbol, price, ts_upstream, ts_library_in, source), then fields
# 4..33 in field-number order, then payload: a positional call with a slice of the decoded
# values is the cheapest way to build it. Keyword calls take over if Quote ever changes.
_QUOTE_NAMES: Final = tuple(f.name for f in dataclasses.fields(Quote))
_HEAD: Final = ("symbol", "price", "ts_upstream", "ts_library_in", "source")
_POSITIONAL: Final = (*_HEAD, *FIELD_NAMES[3:], "payload") == _QUOTE_NAMES
_new_quote: Final[Callable[..., Quote]] = Quote  # the checker cannot count a slice's items


def decode_pricing(
    payload: bytes, received_us: int, *, source: QuoteSource = "stream"
) -> Quote | DecodeError:
    """Decode PricingData bytes into a Quote stamped with `received_us` (µs)."""
    payload = bytes(payload)  # no copy for bytes; a bytearray must not stay mutable
    try:
        v = decode_values(payload)
    except WireError as exc:
        return DecodeError(str(exc), "protobuf")
    quote_type = v[6]
    if quote_type is not None:
        v[6] = _QUOTE_TYPES.get(quote_type, quote_type)
    market_hours = v[7] or 0
    v[7] = _MARKET_HOURS.get(market_hours, market_hours)
    if v[8] is None:
        v[8] = 0.0
    if v[12] is None:
        v[12] = 0.0
    symbol = v[1] or ""
    price = v[2] or 0.0
    ts_upstream = (v[3] or 0) * 1000
    if _POSITIONAL:
        return _new_quote(symbol, price, ts_upstream, received_us, source, *v[4:], payload)
    by_name = {name: v[number] for number, name, _ in FIELDS[3:]}
    return Quote(symbol, price, ts_upstream, received_us, source, payload=payload, **by_name)


def decode_frame(data: str | bytes, received_us: int) -> Quote | Skip | DecodeError:
    """Decode one streamer WebSocket frame (text or binary). Never raises."""
    try:
        if isinstance(data, str):
            return _decode_text(data, received_us)
        if isinstance(data, bytes | bytearray | memoryview):
            return _decode_binary(bytes(data), received_us)
        # Unreachable for typed callers; untyped ones get a value, not an exception.
        return DecodeError(f"frame of type {type(data).__name__}", "input")  # type: ignore[unreachable]
    except Exception as exc:  # the never-raises contract; fuzz tests assert it stays unused
        return DecodeError(f"internal error: {exc!r}", "internal")


def _decode_text(text: str, received_us: int) -> Quote | Skip | DecodeError:
    # Fast path: the exact envelope Yahoo sends, with nothing escaped inside the message.
    if text.startswith(_ENVELOPE_PREFIX) and text.endswith(_ENVELOPE_SUFFIX):
        message = text[_PREFIX_LEN:-2]
        if '"' not in message and "\\" not in message:
            return _decode_base64(message, received_us)
    text = text.strip()
    if not text:
        return DecodeError("empty frame", "input")
    if text[0] == "{":
        return _decode_envelope(text, received_us)
    return _decode_base64(text, received_us)


def _decode_binary(data: bytes, received_us: int) -> Quote | Skip | DecodeError:
    if not data:
        return DecodeError("empty frame", "input")
    # Raw PricingData never starts with "{" (field 15, wire type 3: a group) and starts with
    # 0x0A (field 1) in practice, which is not base64; so only text-looking bytes are text.
    if data[0] == 0x7B or _BASE64_BYTES.fullmatch(data):
        try:
            text = data.decode()
        except UnicodeDecodeError:
            return DecodeError("binary frame starting with '{' is not UTF-8", "json")
        return _decode_text(text, received_us)
    return _checked(decode_pricing(data, received_us))


def _decode_envelope(text: str, received_us: int) -> Quote | Skip | DecodeError:
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return DecodeError(f"invalid JSON: {exc}", "json")
    if not isinstance(envelope, dict):
        return DecodeError("envelope is not a JSON object", "envelope")
    message_type = envelope.get("type")
    if not isinstance(message_type, str):
        return DecodeError("envelope has no string 'type'", "envelope")
    if message_type != "pricing":
        return Skip(f"message type {message_type[:40]!r}", "message_type")
    message = envelope.get("message")
    if not isinstance(message, str):
        return DecodeError("pricing envelope has no string 'message'", "envelope")
    return _decode_base64(message, received_us)


def _decode_base64(text: str, received_us: int) -> Quote | Skip | DecodeError:
    if len(text) % 4:  # tolerate stripped padding
        text += "=" * (-len(text) % 4)
    try:
        payload = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII str
        return DecodeError(f"invalid base64: {exc}", "base64")
    return _checked(decode_pricing(payload, received_us))


def _checked(result: Quote | DecodeError) -> Quote | Skip | DecodeError:
    """Turn quotes that carry nothing to forward into Skips."""
    if isinstance(result, Quote):
        if result.quote_type == QuoteType.HEARTBEAT:
            return Skip(f"heartbeat for {result.symbol[:40]!r}", "heartbeat")
        if not result.symbol:
            return Skip("quote with an empty id", "empty_id")
    return result


def encode_pricing(quote: Quote) -> bytes:
    """PricingData bytes for `quote`, always built from its fields (never `quote.payload`).

    `ts_upstream` is floored to whole milliseconds. Zero/None fields are not written
    (proto3), so PRE_MARKET, a zero change and None all encode as absent. Raises
    ValueError when an integer does not fit its field (a caller bug, not a peer's).
    """
    values: dict[str, Any] = {name: getattr(quote, name) for name in _SAME_NAME_FIELDS}
    values["id"] = quote.symbol
    values["time"] = quote.ts_upstream // 1000
    return encode_fields(values)


def payload_or_encode(quote: Quote) -> bytes:
    """The upstream's own PricingData bytes when the quote kept them, else `encode_pricing`."""
    return quote.payload if quote.payload is not None else encode_pricing(quote)


def envelope_frame(payload: bytes) -> str:
    """The `?version=2` text frame: `{"type":"pricing","message":"<base64>"}`."""
    return _ENVELOPE_PREFIX + legacy_frame(payload) + _ENVELOPE_SUFFIX


def legacy_frame(payload: bytes) -> str:
    """The legacy text frame: the bare base64 of the PricingData bytes."""
    return binascii.b2a_base64(payload, newline=False).decode("ascii")
