"""The restream client protocol v1, client → server: text in, one request (or error) out.

Sans-I/O and total: `parse_request` never raises, whatever it is given (binary frames,
broken UTF-8 is already refused by the WebSocket layer, deep nesting, huge numbers). Each
failure is a `ProtocolError` carrying the wire error code; see docs/protocol.md.

Requests (JSON objects; unknown keys are ignored so later versions can add fields):

    {"op": "subscribe",   "symbols": ["AAPL", "BTC-USD", "@fear_greed"], "id": 1}
    {"op": "unsubscribe", "symbols": ["BTC-USD"]}
    {"op": "ping", "id": 42}

`id` is optional on every request and echoed in the replies to it: a string of at most
`MAX_ID_LENGTH` characters, an integer, a finite number or null. Symbols are returned
raw here; the symbol registry validates and normalises them one by one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BAD_JSON",
    "BAD_REQUEST",
    "MAX_ID_LENGTH",
    "TOO_MANY_SYMBOLS",
    "UNKNOWN_OP",
    "ClientRequest",
    "Ping",
    "ProtocolError",
    "RequestId",
    "Subscribe",
    "Unsubscribe",
    "parse_request",
]

BAD_JSON: Final = "bad_json"
BAD_REQUEST: Final = "bad_request"
UNKNOWN_OP: Final = "unknown_op"
TOO_MANY_SYMBOLS: Final = "too_many_symbols"
MAX_ID_LENGTH: Final = 128
_OPS: Final = ("subscribe", "unsubscribe", "ping")

RequestId = str | int | float | None


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Add these symbols (raw, as sent) to the client's subscriptions."""

    symbols: tuple[object, ...]
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Remove these symbols (raw, as sent) from the client's subscriptions."""

    symbols: tuple[object, ...]
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Ping:
    """Answer with a pong carrying the same `id`."""

    id: RequestId = None


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A request that cannot be carried out: the error code, a message for people, the id."""

    code: str
    message: str
    id: RequestId = None


ClientRequest = Subscribe | Unsubscribe | Ping | ProtocolError


def parse_request(message: str | bytes, *, max_symbols: int) -> ClientRequest:
    """Decode one client message. More than `max_symbols` symbols → `too_many_symbols`."""
    if isinstance(message, bytes):
        return ProtocolError(BAD_JSON, "binary frames are not part of the protocol; send JSON text")
    try:
        doc = json.loads(message, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return ProtocolError(BAD_JSON, "not valid JSON")
    if not isinstance(doc, dict):
        return ProtocolError(BAD_REQUEST, 'a request is a JSON object such as {"op":"ping"}')
    valid_id, rid = _request_id(doc)
    if not valid_id:
        return ProtocolError(
            BAD_REQUEST,
            f"id must be a string of at most {MAX_ID_LENGTH} characters, a number or null",
        )
    op = doc.get("op")
    if not isinstance(op, str):
        return ProtocolError(BAD_REQUEST, f"missing op: use one of {', '.join(_OPS)}", rid)
    if op == "ping":
        return Ping(rid)
    if op == "subscribe" or op == "unsubscribe":
        symbols = doc.get("symbols")
        if not isinstance(symbols, list):
            return ProtocolError(BAD_REQUEST, "symbols must be a list of strings", rid)
        if not symbols:
            return ProtocolError(BAD_REQUEST, "symbols is empty", rid)
        if len(symbols) > max_symbols:
            return ProtocolError(
                TOO_MANY_SYMBOLS,
                f"{len(symbols)} symbols in one request; at most {max_symbols}",
                rid,
            )
        cls = Subscribe if op == "subscribe" else Unsubscribe
        return cls(tuple(symbols), rid)
    shown = op if len(op) <= 32 else op[:32] + "…"
    return ProtocolError(UNKNOWN_OP, f"unknown op {shown!r}: use one of {', '.join(_OPS)}", rid)


def _refuse_constant(name: str) -> float:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told otherwise.
    raise ValueError(f"{name} is not JSON")


def _request_id(doc: dict[str, object]) -> tuple[bool, RequestId]:
    """(acceptable, the id); an unacceptable id is reported without echoing it."""
    value = doc.get("id")
    if value is None:
        return True, None
    if isinstance(value, bool):
        return False, None
    if isinstance(value, str):
        return len(value) <= MAX_ID_LENGTH, value if len(value) <= MAX_ID_LENGTH else None
    if isinstance(value, int):
        # Echoed back as JSON: keep it to what every client can hold (a double's range).
        return (True, value) if abs(value) <= 2**53 else (False, None)
    if isinstance(value, float):
        return (True, value) if math.isfinite(value) else (False, None)
    return False, None
