"""Yahoo Finance: PricingData schema, sans-I/O codec, stream client, REST poller."""

from lib_common.ingestors.yahoo.backoff import Backoff, BackoffPolicy
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
from lib_common.ingestors.yahoo.rest import RestPollStats, YahooRestPoller
from lib_common.ingestors.yahoo.rest_cadence import CadenceSettings, PollCadence
from lib_common.ingestors.yahoo.rest_mapping import ChartError, Malformed, map_chart
from lib_common.ingestors.yahoo.stream import (
    DEFAULT_STREAM_URL,
    StreamConfig,
    YahooStreamClient,
    always_trading,
)
from lib_common.ingestors.yahoo.stream_events import (
    Connected,
    Disconnected,
    Reconnecting,
    ShardClosed,
    Stalled,
    StreamStats,
    StreamStatus,
)

__all__ = [
    "DEFAULT_STREAM_URL",
    "Backoff",
    "BackoffPolicy",
    "CadenceSettings",
    "ChartError",
    "Connected",
    "ControlError",
    "DecodeError",
    "Disconnected",
    "Malformed",
    "MarketHours",
    "PollCadence",
    "Quote",
    "QuoteSource",
    "QuoteType",
    "Reconnecting",
    "RestPollStats",
    "ShardClosed",
    "Skip",
    "Stalled",
    "StreamConfig",
    "StreamStats",
    "StreamStatus",
    "Subscribe",
    "Unsubscribe",
    "YahooRestPoller",
    "YahooStreamClient",
    "always_trading",
    "decode_frame",
    "decode_pricing",
    "encode_pricing",
    "envelope_frame",
    "legacy_frame",
    "map_chart",
    "parse_control",
    "payload_or_encode",
    "subscribe_message",
    "unsubscribe_message",
]
