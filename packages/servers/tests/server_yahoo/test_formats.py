"""Wire formats: which one a client speaks, how a payload is wrapped, the topic keys."""

from __future__ import annotations

import base64
import json

import pytest

from lib_common.ingestors.yahoo.codec import decode_frame
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.server_yahoo.formats import (
    FORMATS,
    WireFormat,
    format_for_query,
    topic,
    wrap_payload,
)

# TSLA, 2021-04-07: a real legacy capture (reference: upstreams.md, golden frame 3).
TSLA_B64 = "CgRUU0xBFR8FKUQYoMyD1ZVeKgNOTVMwCDgBRSLND8BIpvnwDmXAo3jB2AEE"
TSLA = base64.b64decode(TSLA_B64)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"version": "2"}, WireFormat.ENVELOPE),
        ({"version": " 2 "}, WireFormat.ENVELOPE),
        ({}, WireFormat.LEGACY),
        ({"version": "1"}, WireFormat.LEGACY),
        ({"version": ""}, WireFormat.LEGACY),
        ({"token": "x", "version": "2"}, WireFormat.ENVELOPE),
    ],
)
def test_format_for_query(query: dict[str, str], expected: WireFormat) -> None:
    """`?version=2` selects the envelope; anything else the legacy frames, as on Yahoo."""
    assert expected == format_for_query(query)


def test_envelope_is_yahoos_exact_layout() -> None:
    """The envelope text is `{"type":"pricing","message":"<base64>"}`, nothing else."""
    text = wrap_payload(WireFormat.ENVELOPE, TSLA).decode()
    assert '{"type":"pricing","message":"' + TSLA_B64 + '"}' == text
    assert {"type": "pricing", "message": TSLA_B64} == json.loads(text)


def test_legacy_is_the_bare_base64() -> None:
    """The legacy text is the base64 of the payload, as older Yahoo clients expect."""
    assert TSLA_B64.encode() == wrap_payload(WireFormat.LEGACY, TSLA)


@pytest.mark.parametrize("fmt", FORMATS)
def test_both_formats_decode_to_the_same_quote(fmt: WireFormat) -> None:
    """lib_common's decoder reads either wrapping back to the same quote and payload."""
    quote = decode_frame(wrap_payload(fmt, TSLA).decode(), 1)
    assert isinstance(quote, Quote)
    assert "TSLA" == quote.symbol
    assert TSLA == quote.payload


def test_topics_are_distinct_per_format_and_never_a_symbol() -> None:
    """Each (format, symbol) has its own key; `|` cannot occur in a normalised symbol."""
    keys = {topic(fmt, s) for fmt in FORMATS for s in ("AAPL", "BTC-USD", "^GSPC")}
    assert 6 == len(keys)
    assert all("|" in key for key in keys)
