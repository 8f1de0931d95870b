"""QuoteFanout: one frame per format per message, shared by every client of that format."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence

from websockets.frames import Frame
from websockets.streams import StreamReader

from lib_common.core import Dispatcher
from lib_common.ingestors.yahoo.codec import decode_frame, encode_pricing, envelope_frame
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.server_yahoo.fanout import QuoteFanout
from rsdev_servers.server_yahoo.formats import WireFormat
from rsdev_servers.server_yahoo.topics import FormatTopics

V2, LEGACY = WireFormat.ENVELOPE, WireFormat.LEGACY
# BTC-USD, 2025-10-30, a real ?version=2 capture (reference: upstreams.md, golden frame 1).
BTC_B64 = (
    "CgdCVEMtVVNEFbau10cYgIWhqcZmIgNVU0QqA0NDQzApOAFFodj6v0iAgJOO0gNVtq7XR11nZNZHZSD2CcV9AP"
    "nWR7ABgICTjtID2AEE4AGAgJOO0gPoAYCAk47SA/IBA0JUQ4ECAAAAAJoEc0GJAgCAZf/XBYBC"
)
# Fields 34 and 40: newer than the schema; a decode + re-encode would drop them.
UNKNOWN_FIELDS = bytes([0x90, 0x02, 0x05, 0xC2, 0x02, 0x03]) + b"new"


class RecordingSink:
    """A FrameSink that keeps what it was given (the dispatcher's seam; no socket)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed = False

    def write_frames(self, frames: Sequence[bytes]) -> None:
        self.frames.extend(frames)

    def buffered_bytes(self) -> int:
        return 0

    def close(self, code: int, reason: str) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def text_of(frame: bytes) -> str:
    """The text payload of one server frame, parsed by websockets."""
    reader = StreamReader()
    reader.feed_data(frame)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        parsed: Frame = done.value
    return bytes(parsed.data).decode()


def stream_quote(extra: bytes = b"") -> Quote:
    """The BTC capture as the stream client hands it over (payload kept)."""
    frame = envelope_frame(base64.b64decode(BTC_B64) + extra)
    quote = decode_frame(frame, 1_761_785_160_123_456)
    assert isinstance(quote, Quote)
    return quote


def setup(
    clients: dict[int, WireFormat], symbols: Sequence[str] = ("BTC-USD",)
) -> tuple[QuoteFanout, Dispatcher[int], dict[int, RecordingSink]]:
    topics = FormatTopics()
    dispatcher: Dispatcher[int] = Dispatcher(topics, call_soon=lambda callback: None)
    sinks: dict[int, RecordingSink] = {}
    for client, fmt in clients.items():
        sinks[client] = RecordingSink()
        dispatcher.add_client(client, sinks[client])
        topics.add_client(client, fmt)
        topics.add(client, symbols)
    return QuoteFanout(dispatcher, topics), dispatcher, sinks


def test_one_frame_per_format_shared_by_all_clients_of_it() -> None:
    """Four clients, two per format: two frames built, each the same object for both."""
    fanout, dispatcher, sinks = setup({1: V2, 2: V2, 3: LEGACY, 4: LEGACY})
    assert 4 == fanout.publish(stream_quote())
    dispatcher.flush()
    assert sinks[1].frames[0] is sinks[2].frames[0]
    assert sinks[3].frames[0] is sinks[4].frames[0]
    assert 2 == dispatcher.stats().encodes
    assert {"v2": 1, "legacy": 1} == fanout.stats.frames_built
    assert '{"type":"pricing","message":"' + BTC_B64 + '"}' == text_of(sinks[1].frames[0])
    assert BTC_B64 == text_of(sinks[3].frames[0])


def test_only_wanted_formats_are_built() -> None:
    """Only legacy clients hold the symbol: no envelope is built; nobody: nothing is."""
    fanout, dispatcher, _ = setup({1: LEGACY})
    fanout.publish(stream_quote())
    assert {"v2": 0, "legacy": 1} == fanout.stats.frames_built
    other = dataclasses.replace(stream_quote(), symbol="ETH-USD")
    assert 0 == fanout.publish(other)
    assert 1 == dispatcher.stats().encodes
    assert 1 == fanout.stats.quotes_unwanted


def test_stream_payload_is_forwarded_byte_identical() -> None:
    """Unknown fields in the upstream's PricingData survive: the bytes are not re-encoded."""
    quote = stream_quote(UNKNOWN_FIELDS)
    assert quote.payload is not None
    assert encode_pricing(quote) != quote.payload  # a re-encode would lose the extra fields
    fanout, dispatcher, sinks = setup({1: V2, 2: LEGACY})
    fanout.publish(quote)
    dispatcher.flush()
    assert base64.b64encode(quote.payload).decode() == text_of(sinks[2].frames[0])
    assert quote.payload.endswith(UNKNOWN_FIELDS)
    assert 1 == fanout.stats.stream_quotes


def test_polled_quotes_are_synthesised_as_pricing_data() -> None:
    """A REST quote (no payload) goes out as encode_pricing of its fields."""
    polled = dataclasses.replace(stream_quote(), source="poll", payload=None)
    fanout, dispatcher, sinks = setup({1: LEGACY})
    fanout.publish(polled)
    dispatcher.flush()
    sent = base64.b64decode(text_of(sinks[1].frames[0]))
    assert encode_pricing(polled) == sent
    decoded = decode_frame(text_of(sinks[1].frames[0]), 0)
    assert isinstance(decoded, Quote)
    assert polled.price == decoded.price
    assert 1 == fanout.stats.poll_quotes


def test_snapshot_reuses_the_frame_of_the_same_quote() -> None:
    """A snapshot of the quote just published reuses its frame; another quote builds anew."""
    fanout, dispatcher, sinks = setup({1: V2, 2: V2})
    quote = stream_quote()
    fanout.publish(quote)
    dispatcher.flush()
    assert fanout.snapshot(2, V2, quote)
    dispatcher.flush()
    assert sinks[2].frames[0] is sinks[2].frames[1]
    assert 1 == fanout.stats.snapshot_frames_reused
    newer = dataclasses.replace(quote, price=1.0, payload=None)
    assert fanout.snapshot(1, LEGACY, newer)
    assert {"v2": 1, "legacy": 1} == fanout.stats.frames_built
    assert not fanout.snapshot(99, V2, quote)  # not a client
    fanout.forget(["BTC-USD"])
    assert 0 == fanout.cached_symbols()
