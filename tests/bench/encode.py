"""Quote encoding speed: `encode_quote_message` now (orjson) against the stdlib-only encoder.

    uv run python tests/bench/encode.py [--rounds N] [--repeat N] [--generated N]

The "before" encoder is a verbatim copy of `lib_common.core.messages` as it was before
orjson (commit 0c594d4: a `getattr` loop over the Quote's fields, then `json.JSONEncoder`).
Quotes are the five golden captures plus generated realistic equity/ETF/index/FX and
crypto quotes (shared with decode.py), each sent through the wire encoder and
`decode_frame`, so their floats are float32 values exactly as the stream decodes them.
The bench first checks that both encoders give the same bytes for every quote; then
passes alternate between them and the best pass of each counts, so load from other
processes hurts both sides alike. The JSON step alone (the same quote dicts through the
stdlib encoder, through `encode_json`, whose generic byte checks cost more than orjson
itself, and through the bare `orjson.dumps` call the quote path makes) and a small status
message are timed too.
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import math
import os
import platform
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

import orjson
from decode import GOLDEN, realistic_quotes  # tests/bench/decode.py (the script's directory)

from lib_common.core.messages import encode_json, encode_quote_message
from lib_common.ingestors.yahoo.codec import decode_frame, decode_pricing, encode_pricing
from lib_common.ingestors.yahoo.quote import Quote

# -- before: lib_common.core.messages at commit 0c594d4 -----------------------------------

_PRICE_LIKE = frozenset(
    {"day_high", "day_low", "change", "open_price", "previous_close", "strike_price", "bid", "ask"}
)
_FLOAT32 = frozenset({"change_percent"})
_SPECIAL = frozenset(
    {"symbol", "price", "source", "ts_upstream", "ts_library_in", "payload", "price_hint"}
)
_FIELD_NAMES = tuple(f.name for f in fields(Quote) if f.name not in _SPECIAL)
_F32 = struct.Struct("<f")
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def before_encode_json(message: dict[str, Any]) -> bytes:
    return _encoder.encode(message).encode()


def before_encode_quote_message(quote: Quote, ts_library_out: int) -> bytes:
    decimals = quote.price_hint if quote.price_hint is not None else 2
    price = round(quote.price, decimals)
    message: dict[str, Any] = {
        "type": "quote",
        "symbol": quote.symbol,
        "price": price if math.isfinite(price) else None,
    }
    for name in _FIELD_NAMES:
        value = getattr(quote, name)
        if value is None:
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                continue
            if name in _PRICE_LIKE:
                value = round(value, decimals)
            elif name in _FLOAT32:
                value = _before_shortest_float32(value)
        elif isinstance(value, enum.Enum):
            value = value.name
        message[name] = value
    if quote.price_hint is not None:
        message["price_hint"] = quote.price_hint
    message["source"] = quote.source
    message["ts_upstream"] = quote.ts_upstream
    message["ts_library_in"] = quote.ts_library_in
    message["ts_library_out"] = ts_library_out
    return before_encode_json(message)


def _before_shortest_float32(value: float) -> float:
    try:
        as32 = _F32.unpack(_F32.pack(value))[0]
    except OverflowError:
        return value
    if as32 != value:
        return value
    for digits in range(6, 10):
        candidate = float(f"{value:.{digits}g}")
        if _F32.unpack(_F32.pack(candidate))[0] == value:
            return candidate
    return value


# -- timing ---------------------------------------------------------------------------------


def best_us(fn: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    """Microseconds per item of one timed pass over `items`, `rounds` times."""
    start = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            fn(item)
    return (time.perf_counter() - start) / (rounds * len(items)) * 1e6


def race(
    contenders: dict[str, Callable[[Any], object]],
    items: Sequence[Any],
    rounds: int,
    repeat: int,
) -> dict[str, float]:
    """Alternate passes between contenders; keep each one's best µs per item."""
    best = dict.fromkeys(contenders, math.inf)
    for _ in range(repeat):
        for name, fn in contenders.items():
            best[name] = min(best[name], best_us(fn, items, rounds))
    return best


def stream_quotes(generated: int) -> list[Quote]:
    """Golden captures plus generated quotes, as `decode_frame` gives them (float32)."""
    quotes: list[Quote] = []
    for b64 in GOLDEN:
        quote = decode_pricing(base64.b64decode(b64), 1_761_785_160_123_456)
        assert isinstance(quote, Quote), quote
        quotes.append(quote)
    for quote in realistic_quotes(generated):
        decoded = decode_frame(encode_pricing(quote), 1_761_785_160_123_456)
        assert isinstance(decoded, Quote), decoded
        quotes.append(decoded)
    return quotes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="µs per quote of encode_quote_message (orjson) vs the stdlib-only encoder.",
        epilog="Run as: uv run python tests/bench/encode.py",
    )
    parser.add_argument("--rounds", type=int, default=5, help="passes over the quotes per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per encoder (best counts)")
    parser.add_argument("--generated", type=int, default=200, help="generated quotes to add")
    args = parser.parse_args(argv)

    quotes = stream_quotes(args.generated)
    ts_out = 1_761_785_160_124_000
    for quote in quotes:  # byte identity first: a faster encoder that differs is no result
        before = before_encode_quote_message(quote, ts_out)
        assert before == encode_quote_message(quote, ts_out), quote
    status = {"type": "status", "mode": "streaming", "market": "regular", "ts": ts_out}
    assert before_encode_json(status) == encode_json(status)

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, orjson {orjson.__version__}"
    )
    print(
        f"{len(quotes)} quotes ({len(GOLDEN)} golden + {args.generated} generated), "
        f"byte-identical; {args.rounds} rounds x best of {args.repeat}\n"
    )
    quote_us = race(
        {
            "before: getattr loop + json": lambda q: before_encode_quote_message(q, ts_out),
            "now: encode_quote_message": lambda q: encode_quote_message(q, ts_out),
        },
        quotes,
        args.rounds,
        args.repeat,
    )
    dicts = [json.loads(before_encode_quote_message(quote, ts_out)) for quote in quotes]
    json_us = race(
        {
            "before: json": before_encode_json,
            "now: encode_json (checks bytes)": encode_json,
            "now: orjson.dumps (quote path)": orjson.dumps,
        },
        dicts,
        args.rounds,
        args.repeat,
    )
    status_us = race(
        {"before: json": before_encode_json, "now: encode_json": encode_json},
        [status] * len(quotes),
        args.rounds,
        args.repeat,
    )
    results_by_title = {
        "quote message (build + JSON)": quote_us,
        "JSON step alone (the same quote dicts)": json_us,
        "status message": status_us,
    }
    for title, results in results_by_title.items():
        print(f"{title}:")
        before_us = next(iter(results.values()))
        for name, us in results.items():
            ratio = "" if name.startswith("before") else f"  ({before_us / us:.2f}x faster)"
            print(f"  {name:34s} {us:8.2f} µs{ratio}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
