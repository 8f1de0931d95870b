"""Pre-encoded quotes for the feeder: a few random-walk steps per symbol, stamped per send.

Building a quote from scratch costs about 70 µs here (random walk, protobuf, base64),
which at 10,000 messages/s would eat most of a core that the gateways need. So each
symbol gets `variants` steps of the simulator's seeded walk (`lib_common.sim.market`),
encoded once without their timestamps, and every send appends only the times:

- Yahoo `?version=2` frames for restream: the PricingData bytes without `time`, plus the
  `time` field (3, sint64, epoch ms) appended — protobuf accepts fields in any order —
  then base64 in the JSON envelope. restream decodes these like any Yahoo frame.
- JSON for the peer gateways: restream's own quote message shape
  (`lib_common.core.messages.encode_quote_message`) up to `"source":"stream"`, then
  `"ts_upstream":…,"ts_feeder":…}` (µs); so a peer's messages are as long as restream's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from lib_common.core.messages import encode_quote_message
from lib_common.ingestors.yahoo import encode_pricing, envelope_frame
from lib_common.net import text_frame
from lib_common.sim.market import Market

__all__ = ["QuotePool"]

_TS_MARK = b',"ts_upstream":'
_TIME_TAG = b"\x18"  # field 3, wire type 0 (varint)


def _sint64_varint(value: int) -> bytes:
    """Protobuf sint64 (zigzag) as a varint."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class QuotePool:
    """`variants` pre-encoded steps per symbol; `yahoo_frame`/`json_frame` stamp the times."""

    def __init__(self, symbols: Sequence[str], seed: int, variants: int = 8) -> None:
        market = Market(seed, time.time, frozenset())
        self.symbols = list(symbols)
        self.variants = variants
        self._pricing: list[list[bytes]] = []
        self._json: list[list[bytes]] = []
        for symbol in self.symbols:
            pricing, json_prefixes = [], []
            for _ in range(variants):
                quote = replace(market.step(symbol), ts_upstream=0, ts_library_in=0)
                pricing.append(encode_pricing(quote))  # ts_upstream 0: no time field
                message = encode_quote_message(quote, 0)
                json_prefixes.append(message[: message.rindex(_TS_MARK)])
            self._pricing.append(pricing)
            self._json.append(json_prefixes)

    def yahoo_frame(self, index: int, step: int, time_ms: int) -> bytes:
        """The WebSocket text frame of a Yahoo envelope for symbol `index`, step `step`."""
        payload = self._pricing[index][step % self.variants] + _TIME_TAG + _sint64_varint(time_ms)
        return text_frame(envelope_frame(payload).encode())

    def json_frame(self, index: int, step: int, ts_upstream_us: int, ts_feeder_us: int) -> bytes:
        """The WebSocket text frame of a JSON quote for the peer gateways."""
        body = b'%s,"ts_upstream":%d,"ts_feeder":%d}' % (
            self._json[index][step % self.variants],
            ts_upstream_us,
            ts_feeder_us,
        )
        return text_frame(body)
