"""Server → client messages other than quotes: acks, pongs, errors, status, indicator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lib_common.core import Rejection
from lib_common.ingestors.cnn import FearGreed, FearGreedComponent, Rating
from rsdev_servers.restream.messages import (
    encode_ack,
    encode_error,
    encode_indicator,
    encode_pong,
    encode_rejections,
    encode_status,
)


def test_ack_pong_error() -> None:
    """Acks and errors carry the request id only when given; pong always has `id`."""
    assert json.loads(encode_ack("subscribed", ["AAPL"], 3)) == {
        "type": "subscribed",
        "symbols": ["AAPL"],
        "id": 3,
    }
    assert json.loads(encode_ack("unsubscribed", [], None)) == {
        "type": "unsubscribed",
        "symbols": [],
    }
    assert json.loads(encode_pong(None, 5)) == {"type": "pong", "id": None, "ts": 5}
    assert json.loads(encode_error("bad_json", "m", "x")) == {
        "type": "error",
        "code": "bad_json",
        "message": "m",
        "id": "x",
    }


def test_rejections_grouped_by_code() -> None:
    """Refused symbols become one error per code, each listing its symbols."""
    rejected = (
        Rejection("a b", "bad_character", "bad"),
        Rejection("@nope", "unknown_indicator", "unknown"),
        Rejection("MSFT", "client_limit", "full"),
        Rejection("IBM", "global_limit", "server full"),
        Rejection("GE", "not_subscribed", "not subscribed"),
    )
    errors = {code: json.loads(payload) for code, payload in encode_rejections(rejected, 9)}
    assert list(errors) == ["invalid_symbol", "too_many_symbols", "server_full", "not_subscribed"]
    invalid = errors["invalid_symbol"]
    assert invalid["id"] == 9
    assert [s["symbol"] for s in invalid["symbols"]] == ["a b", "@nope"]
    assert invalid["symbols"][0]["reason"] == "bad_character"
    assert invalid["message"].startswith("2 symbols refused")


def test_status() -> None:
    """Status carries mode, market, reason, extra fields and its time."""
    message = json.loads(encode_status("polling", "regular", 7, reason="stall", upstream="down"))
    assert message == {
        "type": "status",
        "mode": "polling",
        "market": "regular",
        "reason": "stall",
        "upstream": "down",
        "ts": 7,
    }


def test_indicator() -> None:
    """Fear & Greed as an indicator message: score, rating, components, µs timestamps."""
    value = FearGreed(
        score=62.5,
        rating=Rating.GREED,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        previous_close=60.0,
        components={"put_call_options": FearGreedComponent("put_call_options", 40.0, "fear", None)},
    )
    message = json.loads(
        encode_indicator(value, ts_library_in=10, ts_library_out=11, snapshot=True)
    )
    assert message["type"] == "indicator"
    assert (message["name"], message["symbol"]) == ("fear_greed", "@fear_greed")
    assert (message["score"], message["rating"], message["previous_close"]) == (62.5, "greed", 60.0)
    assert message["components"]["put_call_options"] == {"score": 40.0, "rating": "fear"}
    assert message["snapshot"] is True
    assert message["ts_upstream"] == 1_767_323_045_600_000
    assert (message["ts_library_in"], message["ts_library_out"]) == (10, 11)
    assert "previous_1_week" not in message


def test_every_message_is_the_stdlib_compact_encoding() -> None:
    """Bytes are exactly `json.dumps(…, separators=(",", ":"), ensure_ascii=False)`."""
    value = FearGreed(
        score=float("nan"),  # becomes null
        rating=Rating.GREED,
        timestamp=datetime(2026, 1, 2, tzinfo=UTC),
        previous_close=1e-05,  # a float json spells 1e-05 (orjson: 0.00001)
        components={"momentum": FearGreedComponent("momentum", 3e-07, "fear", None)},
    )
    payloads = [
        encode_ack("subscribed", ["NESN.SW", "^GSPC"], 3),
        encode_pong(None, 5),
        encode_pong("réq", 2**64),  # an id past orjson's 64-bit ints
        encode_error("bad_json", "unexpected « here »", "x", detail="line\n2"),
        *(payload for _, payload in encode_rejections([Rejection("a b", "bad", "bad")], 1)),
        encode_status("polling", "regular", 7, reason="stall", upstream="down"),
        encode_indicator(value, ts_library_in=10, ts_library_out=11),
    ]
    for payload in payloads:
        reference = json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False)
        assert reference.encode() == payload
