"""Quotes → Yahoo frames → clients: at most one frame per format per message.

For each quote the upstream manager hands over:

1. the PricingData payload is `quote.payload` when the quote came from the stream (the
   upstream's exact bytes, unknown fields included) and `encode_pricing(quote)` when it
   was synthesised from a REST poll (`payload_or_encode`);
2. for each format that has at least one subscriber of the symbol, the payload is wrapped
   (`formats.wrap_payload`) and framed **once** (`Dispatcher.encode`), and that one
   `bytes` object is queued for every client of the format (`Dispatcher.publish` on the
   format's topic). A format nobody speaks for the symbol costs nothing; a quote nobody
   wants is not even wrapped.

The frames of the latest quote per symbol are kept, so the snapshot a client gets on
subscribe (Yahoo sends the last value at once) reuses them instead of framing again.
The entry is tied to the quote object it was built from: a snapshot of any other quote
(the manager's last-value cache is the authority) builds and keeps a fresh entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib_common.core import Dispatcher
from lib_common.ingestors.yahoo.codec import payload_or_encode
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.server_yahoo.formats import FORMATS, WireFormat, topic, wrap_payload
from rsdev_servers.server_yahoo.topics import FormatTopics

__all__ = ["FanoutStats", "QuoteFanout"]


@dataclass(slots=True)
class _Framed:
    """The frames built so far for one quote (by identity)."""

    quote: Quote
    payload: bytes
    frames: dict[WireFormat, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class FanoutStats:
    """Counters for /metrics."""

    quotes: int = 0  # quotes handed over by the upstream manager
    quotes_unwanted: int = 0  # no client of either format held the symbol
    stream_quotes: int = 0  # forwarded with the upstream's own payload bytes
    poll_quotes: int = 0  # PricingData synthesised from a polled quote
    frames_built: dict[str, int] = field(default_factory=lambda: {f.value: 0 for f in FORMATS})
    snapshots: int = 0  # snapshot frames queued on subscribe
    snapshot_frames_reused: int = 0  # snapshots that reused an already built frame


class QuoteFanout:
    """Frames quotes once per format and queues them on the shared dispatcher."""

    def __init__(self, dispatcher: Dispatcher[int], topics: FormatTopics) -> None:
        self._dispatcher = dispatcher
        self._topics = topics
        self._latest: dict[str, _Framed] = {}
        self.stats = FanoutStats()

    def publish(self, quote: Quote) -> int:
        """Deliver `quote` to every subscriber in its format; returns the deliveries."""
        stats = self.stats
        stats.quotes += 1
        symbol = quote.symbol
        wanted = [fmt for fmt in FORMATS if self._topics.count(fmt, symbol)]
        if not wanted:
            stats.quotes_unwanted += 1
            # Keep nothing framed for a quote nobody saw; a later snapshot frames on demand.
            self._latest.pop(symbol, None)
            return 0
        framed = self._framed(quote)
        if quote.payload is not None:
            stats.stream_quotes += 1
        else:
            stats.poll_quotes += 1
        delivered = 0
        for fmt in wanted:
            delivered += self._dispatcher.publish(topic(fmt, symbol), self._frame(framed, fmt))
        return delivered

    def snapshot(self, client: int, fmt: WireFormat, quote: Quote) -> bool:
        """Queue `quote` (a symbol's last value) for one client, in its format."""
        framed = self._framed(quote)
        reused = fmt in framed.frames
        frame = self._frame(framed, fmt)
        queued = self._dispatcher.send(client, frame)
        if queued:
            self.stats.snapshots += 1
            if reused:
                self.stats.snapshot_frames_reused += 1
        return queued

    def forget(self, symbols: tuple[str, ...] | list[str]) -> None:
        """Drop cached frames of symbols no longer followed upstream."""
        for symbol in symbols:
            self._latest.pop(symbol, None)

    def cached_symbols(self) -> int:
        return len(self._latest)

    def _framed(self, quote: Quote) -> _Framed:
        entry = self._latest.get(quote.symbol)
        if entry is None or entry.quote is not quote:
            entry = _Framed(quote, payload_or_encode(quote))
            self._latest[quote.symbol] = entry
        return entry

    def _frame(self, framed: _Framed, fmt: WireFormat) -> bytes:
        frame = framed.frames.get(fmt)
        if frame is None:
            frame = self._dispatcher.encode(wrap_payload(fmt, framed.payload))
            framed.frames[fmt] = frame
            self.stats.frames_built[fmt.value] += 1
        return frame
