"""restream protocol v1, server → client messages other than quotes, as JSON bytes.

Quotes and snapshots are encoded by `lib_common.core.messages.encode_quote_message` (one
place turns a `Quote` into JSON); this module adds the rest: acknowledgements, pongs,
errors, status and the Fear & Greed indicator. Every function returns compact UTF-8 JSON
ready to be framed once. See docs/protocol.md for every field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from lib_common.core import Rejection, encode_error_message, encode_json
from lib_common.ingestors.cnn import FearGreed
from lib_common.logging import datetime_to_us
from rsdev_servers.restream.protocol import RequestId

__all__ = [
    "FEAR_GREED_SYMBOL",
    "encode_ack",
    "encode_error",
    "encode_indicator",
    "encode_pong",
    "encode_rejections",
    "encode_status",
    "indicator_json",
]

FEAR_GREED_SYMBOL = "@fear_greed"

# Registry rejection reasons → protocol error codes (invalid names share one code; the
# per-symbol `reason` keeps the detail).
_REJECTION_CODES = {
    "client_limit": "too_many_symbols",
    "global_limit": "server_full",
    "not_subscribed": "not_subscribed",
}
INVALID_SYMBOL = "invalid_symbol"


def _with_id(message: dict[str, Any], request_id: RequestId) -> dict[str, Any]:
    if request_id is not None:
        message["id"] = request_id
    return message


def encode_ack(kind: str, symbols: Sequence[str], request_id: RequestId) -> bytes:
    """`{"type":"subscribed"|"unsubscribed","symbols":[…]}` (+ `id`)."""
    return encode_json(_with_id({"type": kind, "symbols": list(symbols)}, request_id))


def encode_pong(request_id: RequestId, ts_us: int) -> bytes:
    """`{"type":"pong","id":…,"ts":µs}`; `id` is always present (null when not given)."""
    return encode_json({"type": "pong", "id": request_id, "ts": ts_us})


def encode_error(code: str, message: str, request_id: RequestId = None, **extra: Any) -> bytes:
    """`{"type":"error","code":…,"message":…}` (+ `id`, + extra fields)."""
    if request_id is not None:
        extra["id"] = request_id
    return encode_error_message(code, message, **extra)


def encode_rejections(
    rejected: Iterable[Rejection], request_id: RequestId
) -> list[tuple[str, bytes]]:
    """One error per code for a request's refused symbols: `[(code, payload), …]`.

    Each carries `symbols: [{"symbol", "reason", "message"}, …]`.
    """
    groups: dict[str, list[dict[str, str]]] = {}
    for item in rejected:
        code = _REJECTION_CODES.get(item.reason, INVALID_SYMBOL)
        groups.setdefault(code, []).append(
            {"symbol": item.symbol, "reason": item.reason, "message": item.message}
        )
    out: list[tuple[str, bytes]] = []
    for code, items in groups.items():
        count = len(items)
        noun = "symbol" if count == 1 else "symbols"
        text = f"{count} {noun} refused: {items[0]['message']}"
        out.append((code, encode_error(code, text, request_id, symbols=items)))
    return out


def encode_status(
    mode: str, market: str, ts_us: int, *, reason: str | None = None, **extra: Any
) -> bytes:
    """`{"type":"status","mode":…,"market":…,"ts":µs}` (+ `reason`, + extra fields)."""
    message: dict[str, Any] = {"type": "status", "mode": mode, "market": market}
    if reason:
        message["reason"] = reason
    message.update(extra)
    message["ts"] = ts_us
    return encode_json(message)


def encode_indicator(
    value: FearGreed,
    *,
    ts_library_in: int,
    ts_library_out: int,
    snapshot: bool = False,
) -> bytes:
    """`{"type":"indicator","name":"fear_greed","score":…,"rating":…,…}`.

    `ts_upstream` is CNN's own timestamp of the value (µs); history is never sent.
    """
    message: dict[str, Any] = {
        "type": "indicator",
        "name": "fear_greed",
        "symbol": FEAR_GREED_SYMBOL,
        "score": _finite(value.score),
        "rating": _text(value.rating),
    }
    for name in ("previous_close", "previous_1_week", "previous_1_month", "previous_1_year"):
        field = getattr(value, name)
        if field is not None and math.isfinite(field):
            message[name] = field
    if value.components:
        message["components"] = {
            name: {"score": _finite(c.score), "rating": _text(c.rating)}
            for name, c in value.components.items()
        }
    if snapshot:
        message["snapshot"] = True
    message["ts_upstream"] = datetime_to_us(value.timestamp)
    message["ts_library_in"] = ts_library_in
    message["ts_library_out"] = ts_library_out
    return encode_json(message)


def indicator_json(value: FearGreed, *, ts_library_in: int, ts_library_out: int) -> Any:
    """The indicator message as a JSON-ready dict (for HTTP snapshots)."""
    return json.loads(
        encode_indicator(value, ts_library_in=ts_library_in, ts_library_out=ts_library_out)
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
