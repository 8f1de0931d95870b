"""The bus's wire format, sans-I/O: batches of records, control messages, and back.

**Bus message** (one per shard channel per flush), bytes:

    B1 <token> <ts_bus>\\n<record>\\n<record>…

`token` is the leader's fencing token, `ts_bus` (µs) when the leader handed the batch to
Redis. JSON never contains a raw newline, so records are lines:

- `Q <symbol> <source> <ts_upstream> <ts_library_in> <json>` — a quote. `<json>` is the
  client `quote` message exactly as restream encodes it (`encode_quote_message`), cut
  before `,"ts_library_out":…}`: the leader encodes once; each node appends
  `,"ts_bus":…,"ts_library_out":…}` at dispatch without parsing it.
- `I <name> <json>` — an indicator value (`@fear_greed`), `FearGreed` as JSON.

**Control message** (the control channel), text: `L <token> <node>` a node won the
election; `R <token> <node>` the leader released the lock (shutdown); `N <node>` a node's
interest changed; `S <token> <json>` the leader's status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from lib_common.core import MarketSession, StreamState, UpstreamMode, encode_quote_message
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.cnn import FearGreed, FearGreedComponent, parse_rating
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

__all__ = [
    "Batch",
    "BusFormatError",
    "ControlMessage",
    "RelayedQuote",
    "as_bytes",
    "as_text",
    "decode_batch",
    "decode_control",
    "decode_fear_greed",
    "decode_status",
    "encode_batch",
    "encode_control",
    "encode_fear_greed",
    "encode_status",
    "indicator_record",
    "parse_quote_record",
    "quote_from_message",
    "quote_record",
]

_MAGIC: Final = b"B1"
_OUT_SUFFIX: Final = b',"ts_library_out":0}'
_QUOTE_TYPE: Final = b'{"type":"quote"'
_SNAPSHOT_TYPE: Final = b'{"type":"snapshot"'
_QUOTE_FIELDS: Final = frozenset(f.name for f in fields(Quote)) - {"payload"}


class BusFormatError(ValueError):
    """A bus or control message that does not parse (logged and dropped)."""


def as_bytes(value: bytes | str) -> bytes:
    """A Redis reply as bytes (the client does not decode; typing says it might)."""
    return value.encode() if isinstance(value, str) else value


def as_text(value: bytes | str) -> str:
    """A Redis reply as text."""
    return value if isinstance(value, str) else value.decode()


# -- quotes ------------------------------------------------------------------------------


def quote_record(quote: Quote) -> bytes:
    """The `Q …` record of a quote (encoded once, on the leader)."""
    body = encode_quote_message(quote, 0)
    if not body.endswith(_OUT_SUFFIX):  # pragma: no cover - encode_quote_message's contract
        raise AssertionError("encode_quote_message no longer ends with ts_library_out")
    return b"Q %s %s %d %d %s" % (
        quote.symbol.encode(),
        quote.source.encode(),
        quote.ts_upstream,
        quote.ts_library_in,
        body[: -len(_OUT_SUFFIX)],
    )


@dataclass(frozen=True, slots=True)
class RelayedQuote:
    """A quote as it came off the bus: the timestamps, and its JSON without the end."""

    symbol: str
    source: str
    ts_upstream: int
    ts_library_in: int
    ts_bus: int
    body: bytes  # the client message up to (not including) `,"ts_library_out":…}`
    snapshot: bool = False  # fetched from the last-value hash, not live

    def payload(self, ts_library_out: int) -> bytes:
        """The client message, stamped with `ts_bus` and `ts_library_out` (no JSON parse)."""
        body = self.body
        if self.snapshot and body.startswith(_QUOTE_TYPE):
            body = _SNAPSHOT_TYPE + body[len(_QUOTE_TYPE) :]
        return b'%s,"ts_bus":%d,"ts_library_out":%d}' % (body, self.ts_bus, ts_library_out)

    def as_snapshot(self) -> RelayedQuote:
        """The same value, to be sent as a `snapshot` message."""
        return RelayedQuote(
            self.symbol,
            self.source,
            self.ts_upstream,
            self.ts_library_in,
            self.ts_bus,
            self.body,
            snapshot=True,
        )

    def to_quote(self) -> Quote:
        """The `Quote` (for snapshots and `/snapshot`); prices are the display values."""
        return quote_from_message(json.loads(self.body + b"}"))


def parse_quote_record(line: bytes, ts_bus: int) -> RelayedQuote:
    """A `Q …` record (raises `BusFormatError`)."""
    parts = line.split(b" ", 5)
    if len(parts) != 6 or parts[0] != b"Q":
        raise BusFormatError("not a quote record")
    try:
        return RelayedQuote(
            parts[1].decode(),
            parts[2].decode(),
            int(parts[3]),
            int(parts[4]),
            ts_bus,
            parts[5],
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BusFormatError(f"bad quote record: {exc}") from None


def quote_from_message(message: dict[str, Any]) -> Quote:
    """A `Quote` from a client `quote` message (unknown keys ignored, enums by name)."""
    values = {k: v for k, v in message.items() if k in _QUOTE_FIELDS}
    values["quote_type"] = _enum(QuoteType, values.get("quote_type"))
    values["market_hours"] = _enum(MarketHours, values.get("market_hours"))
    try:
        return Quote(**values)
    except TypeError as exc:
        raise BusFormatError(f"not a quote: {exc}") from None


def _enum(kind: type[QuoteType] | type[MarketHours], value: object) -> Any:
    if isinstance(value, str):
        return kind.__members__.get(value)
    return value


# -- indicators ---------------------------------------------------------------------------


def indicator_record(symbol: str, value: FearGreed) -> bytes:
    """The `I …` record of an indicator value."""
    return b"I %s %s" % (symbol.encode(), encode_fear_greed(value))


def encode_fear_greed(value: FearGreed) -> bytes:
    """`FearGreed` as compact JSON (history is never carried)."""
    message: dict[str, Any] = {
        "score": value.score,
        "rating": value.rating,
        "timestamp": value.timestamp.isoformat(),
    }
    for name in ("previous_close", "previous_1_week", "previous_1_month", "previous_1_year"):
        message[name] = getattr(value, name)
    message["components"] = {
        name: {
            "score": c.score,
            "rating": c.rating,
            "timestamp": c.timestamp.isoformat() if c.timestamp else None,
        }
        for name, c in value.components.items()
    }
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()


def decode_fear_greed(data: bytes) -> FearGreed:
    """The inverse of `encode_fear_greed` (raises `BusFormatError`)."""
    try:
        doc = json.loads(data)
        components = {
            name: FearGreedComponent(
                name=name,
                score=c["score"],
                rating=parse_rating(c["rating"]),
                timestamp=datetime.fromisoformat(c["timestamp"]) if c["timestamp"] else None,
            )
            for name, c in doc["components"].items()
        }
        return FearGreed(
            score=float(doc["score"]),
            rating=parse_rating(doc["rating"]),
            timestamp=datetime.fromisoformat(doc["timestamp"]),
            previous_close=doc["previous_close"],
            previous_1_week=doc["previous_1_week"],
            previous_1_month=doc["previous_1_month"],
            previous_1_year=doc["previous_1_year"],
            components=components,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BusFormatError(f"bad indicator value: {exc}") from None


# -- batches ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded bus message: the leader's token, when it was published, the records."""

    token: int
    ts_bus: int
    records: list[bytes]


def encode_batch(token: int, ts_bus: int, records: Sequence[bytes]) -> bytes:
    """One bus message carrying `records`."""
    return b"%s %d %d\n%s" % (_MAGIC, token, ts_bus, b"\n".join(records))


def decode_batch(data: bytes) -> Batch:
    """Split a bus message (records are parsed one by one by the reader)."""
    head, _, rest = data.partition(b"\n")
    parts = head.split(b" ")
    if len(parts) != 3 or parts[0] != _MAGIC or not parts[1].isdigit():
        raise BusFormatError("not a bus batch")
    try:
        ts_bus = int(parts[2])
    except ValueError:
        raise BusFormatError("bad ts_bus") from None
    return Batch(int(parts[1]), ts_bus, rest.split(b"\n") if rest else [])


# -- control ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """`kind` is `L` (elected), `R` (released), `N` (interest changed) or `S` (status)."""

    kind: str
    token: int = 0
    node: str = ""
    body: bytes = b""


def encode_control(kind: str, *, token: int = 0, node: str = "", body: bytes = b"") -> bytes:
    """A control message (see the module docstring)."""
    if kind in ("L", "R"):
        return f"{kind} {token} {node}".encode()
    if kind == "N":
        return f"N {node}".encode()
    if kind == "S":
        return b"S %d %s" % (token, body)
    raise ValueError(f"unknown control message kind {kind!r}")


def decode_control(data: bytes) -> ControlMessage:
    """Parse a control message (raises `BusFormatError`)."""
    kind, _, rest = data.partition(b" ")
    try:
        if kind in (b"L", b"R"):
            token, _, node = rest.partition(b" ")
            return ControlMessage(kind.decode(), int(token), node.decode())
        if kind == b"N":
            return ControlMessage("N", node=rest.decode())
        if kind == b"S":
            token, _, body = rest.partition(b" ")
            return ControlMessage("S", int(token), body=body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BusFormatError(f"bad control message: {exc}") from None
    raise BusFormatError("unknown control message")


def encode_status(status: UpstreamStatus) -> bytes:
    """An `UpstreamStatus` as JSON."""
    return json.dumps(status.as_dict(), separators=(",", ":")).encode()


def decode_status(body: bytes) -> UpstreamStatus:
    """The inverse of `encode_status` (raises `BusFormatError`)."""
    try:
        doc = json.loads(body)
        return UpstreamStatus(
            mode=UpstreamMode(doc["mode"]),
            market=MarketSession(doc["market"]),
            reason=str(doc["reason"]),
            upstream=StreamState(doc["upstream"]),
            at_us=int(doc["at_us"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BusFormatError(f"bad status: {exc}") from None
