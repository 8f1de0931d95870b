"""Yahoo Finance: PricingData schema, sans-I/O codec, stream client, REST poller."""

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
from lib_common.ingestors.yahoo.control import (
    ControlError,
    Subscribe,
    Unsubscribe,
    parse_control,
    subscribe_message,
    unsubscribe_message,
)
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteSource, QuoteType

__all__ = [
    "ControlError",
    "DecodeError",
    "MarketHours",
    "Quote",
    "QuoteSource",
    "QuoteType",
    "Skip",
    "Subscribe",
    "Unsubscribe",
    "decode_frame",
    "decode_pricing",
    "encode_pricing",
    "envelope_frame",
    "legacy_frame",
    "parse_control",
    "payload_or_encode",
    "subscribe_message",
    "unsubscribe_message",
]
