"""The bus and control wire formats: what the leader writes is what a node reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lib_common.core import MarketSession, StreamState, UpstreamMode, encode_quote_message
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.cnn import FearGreed, FearGreedComponent, Rating
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType
from rsdev_servers.cluster.codec import (
    BusFormatError,
    decode_batch,
    decode_control,
    decode_fear_greed,
    decode_status,
    encode_batch,
    encode_control,
    encode_fear_greed,
    encode_status,
    indicator_record,
    parse_quote_record,
    quote_record,
)

QUOTE = Quote(
    symbol="BTC-USD",
    price=110429.421875,
    ts_upstream=1_761_785_160_000_000,
    ts_library_in=1_761_785_160_123_456,
    currency="USD",
    quote_type=QuoteType.CRYPTOCURRENCY,
    market_hours=MarketHours.REGULAR_MARKET,
    change_percent=-1.9597359895706177,
    day_volume=62_560_296_960,
    price_hint=2,
    short_name="Bitcoin USD",
)


def test_a_relayed_quote_is_the_local_message_plus_ts_bus() -> None:
    """The payload is byte for byte `encode_quote_message` with `ts_bus` before
    `ts_library_out`: the leader encoded it once, the node only stamps it."""
    batch = decode_batch(encode_batch(5, 1_761_785_160_200_000, [quote_record(QUOTE)]))
    assert 5 == batch.token
    relayed = parse_quote_record(batch.records[0], batch.ts_bus)
    assert ("BTC-USD", "stream") == (relayed.symbol, relayed.source)
    assert (QUOTE.ts_upstream, QUOTE.ts_library_in) == (relayed.ts_upstream, relayed.ts_library_in)
    payload = relayed.payload(1_761_785_160_300_000)
    local = json.loads(encode_quote_message(QUOTE, 1_761_785_160_300_000))
    message = json.loads(payload)
    assert 1_761_785_160_200_000 == message.pop("ts_bus")
    assert local == message
    keys = list(json.loads(payload))
    assert ["ts_library_in", "ts_bus", "ts_library_out"] == keys[-3:]


def test_a_fetched_last_value_is_sent_as_a_snapshot() -> None:
    """`as_snapshot()` turns the message type into `snapshot`, nothing else."""
    relayed = parse_quote_record(quote_record(QUOTE), 7).as_snapshot()
    message = json.loads(relayed.payload(9))
    assert "snapshot" == message["type"]
    assert (7, 9) == (message["ts_bus"], message["ts_library_out"])


def test_the_quote_behind_a_record_encodes_to_the_same_message() -> None:
    """`to_quote()` (for snapshots) gives a Quote that encodes exactly as the original."""
    relayed = parse_quote_record(quote_record(QUOTE), 7)
    quote = relayed.to_quote()
    assert QuoteType.CRYPTOCURRENCY == quote.quote_type
    assert encode_quote_message(QUOTE, 1) == encode_quote_message(quote, 1)


def test_fear_greed_round_trips() -> None:
    """An indicator value crosses the bus intact (history is never carried)."""
    when = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    value = FearGreed(
        score=50.36,
        rating=Rating.NEUTRAL,
        timestamp=when,
        previous_close=47.34,
        components={
            "put_call_options": FearGreedComponent("put_call_options", 41.9, Rating.FEAR, when)
        },
    )
    record = indicator_record("@fear_greed", value)
    assert record.startswith(b"I @fear_greed ")
    assert value == decode_fear_greed(encode_fear_greed(value))


def test_control_messages_round_trip() -> None:
    """Elected, released, interest changed and status messages parse back."""
    for kind in ("L", "R"):
        message = decode_control(encode_control(kind, token=12, node="n1"))
        assert (kind, 12, "n1") == (message.kind, message.token, message.node)
    assert "n2" == decode_control(encode_control("N", node="n2")).node
    status = UpstreamStatus(
        UpstreamMode.POLLING, MarketSession.REGULAR, "stalled", StreamState.STALLED, 123
    )
    message = decode_control(encode_control("S", token=4, body=encode_status(status)))
    assert 4 == message.token
    assert status == decode_status(message.body)


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (decode_batch, b"B2 1 2\nQ x"),
        (decode_batch, b"B1 x 2\n"),
        (decode_control, b"Z 1 n"),
        (decode_control, b"L x n"),
        (decode_status, b'{"mode":"sideways"}'),
        (decode_fear_greed, b"[]"),
        (lambda d: parse_quote_record(d, 0), b"Q AAPL stream x 2 {}"),
    ],
)
def test_garbage_raises_one_error_type(decode: object, data: bytes) -> None:
    """Whatever is malformed surfaces as BusFormatError (counted and dropped by nodes)."""
    with pytest.raises(BusFormatError):
        decode(data)  # type: ignore[operator]
