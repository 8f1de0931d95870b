"""Decode speed: rsdev's `decode_frame` against yfinance's own decode path, same frames.

    uv run --with yfinance python tests/bench/decode.py [--rounds N] [--repeat N]

yfinance is a benchmark-only dependency (not in any pyproject): `--with` adds it to a
throwaway environment for this one run. Frames are the five golden captures from the
reference plus generated realistic equity, index, FX and crypto quotes, each as the
`?version=2` JSON envelope and as the legacy bare base64 text. yfinance's listener does
`json.loads(frame)["message"]` and then `BaseWebSocket._decode_message(base64)` (base64 +
google.protobuf parse + MessageToDict); both its full path and `_decode_message` alone
are timed. Passes alternate between the decoders and the best pass of each counts, so
load from other processes on the machine hurts both sides alike.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from lib_common.ingestors.yahoo._generated.yahoo import PricingData
from lib_common.ingestors.yahoo.codec import (
    decode_frame,
    encode_pricing,
    envelope_frame,
    legacy_frame,
)
from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType

GOLDEN = (
    "CgdCVEMtVVNEFbau10cYgIWhqcZmIgNVU0QqA0NDQzApOAFFodj6v0iAgJOO0gNVtq7XR11nZNZHZSD2CcV9APnWR7AB"
    "gICTjtID2AEE4AGAgJOO0gPoAYCAk47SA/IBA0JUQ4ECAAAAAJoEc0GJAgCAZf/XBYBC",
    "CgdCVEMtVVNEFYoMuUcYwLCVgIplIgNVU0QqA0NDQzApOAFFPWrEP0iAgOrxvANVx/25R12csrRHZYD8skR9/7i0R7AB"
    "gIDq8bwD2AEE4AGAgOrxvAPoAYCA6vG8A/IBA0JUQ4ECAAAAwPrjckGJAgAA2P5ZT3tC",
    "CgRUU0xBFR8FKUQYoMyD1ZVeKgNOTVMwCDgBRSLND8BIpvnwDmXAo3jB2AEE",
    "CgRNU0ZUFYVrMUMY0KLMjcNcKgNOTVMwCDgBRZ+B3L9IuPn8CVU0IjRDXYVrMUNlQApHwNgBBA==",
    "CgRBQVBMFZqZ4UMYoI+hlvlcKgNOTVMwCDgBRXIUSr9IyOXZDmWAwmXA2AEE",
)


def realistic_quotes(count: int, seed: int = 7) -> list[Quote]:
    """Quotes shaped like real frames: equities/ETFs/indices/FX lean, crypto rich."""
    rng = random.Random(seed)
    quotes = []
    for i in range(count):
        price = round(rng.uniform(5, 900), 2)
        change = round(rng.uniform(-0.05, 0.05) * price, 2)
        ts_upstream = (1_761_785_160_000 + i * 1000) * 1000
        shape = i % 4
        if shape == 3:  # crypto: currency, 24h volumes, supply and market cap
            volume = rng.randrange(10**9, 10**11)
            quotes.append(
                Quote(
                    symbol=rng.choice(("BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD")),
                    price=price * 100,
                    ts_upstream=ts_upstream,
                    ts_library_in=0,
                    currency="USD",
                    exchange="CCC",
                    quote_type=QuoteType.CRYPTOCURRENCY,
                    market_hours=MarketHours.REGULAR_MARKET,
                    change_percent=change / price * 100,
                    day_volume=volume,
                    day_high=price * 101,
                    day_low=price * 99,
                    change=change * 100,
                    open_price=price * 100 - change,
                    last_size=volume,
                    price_hint=2,
                    vol_24hr=volume,
                    vol_all_currencies=volume,
                    from_currency="BTC",
                    circulating_supply=float(rng.randrange(10**7, 10**9)),
                    market_cap=float(rng.randrange(10**10, 10**12)),
                )
            )
        else:  # equity, index or FX: the lean shape of the TSLA/MSFT captures
            quotes.append(
                Quote(
                    symbol=rng.choice(("AAPL", "MSFT", "TSLA", "^GSPC", "EURUSD=X", "SPY")),
                    price=price,
                    ts_upstream=ts_upstream,
                    ts_library_in=0,
                    exchange=rng.choice(("NMS", "NYQ", "SNP", "CCY")),
                    quote_type=rng.choice((QuoteType.EQUITY, QuoteType.ETF, QuoteType.INDEX)),
                    market_hours=MarketHours.REGULAR_MARKET,
                    change_percent=change / price * 100,
                    day_volume=rng.randrange(10**5, 10**8),
                    day_high=price * 1.01 if shape else None,
                    day_low=price * 0.99 if shape else None,
                    change=change,
                    price_hint=2,
                )
            )
    return quotes


def best_rate(fn: Callable[[Any], object], frames: Sequence[Any], rounds: int) -> float:
    """Frames per second of one timed pass over `frames`, `rounds` times."""
    start = time.perf_counter()
    for _ in range(rounds):
        for frame in frames:
            fn(frame)
    return rounds * len(frames) / (time.perf_counter() - start)


def race(
    contenders: dict[str, tuple[Callable[[Any], object], Sequence[Any]]],
    rounds: int,
    repeat: int,
) -> dict[str, float]:
    """Alternate passes between contenders; keep each one's best frames/s."""
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(repeat):
        for name, (fn, frames) in contenders.items():
            best[name] = max(best[name], best_rate(fn, frames, rounds))
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Decode frames/s of rsdev's codec vs yfinance's _decode_message.",
        epilog="Run as: uv run --with yfinance python tests/bench/decode.py",
    )
    parser.add_argument("--rounds", type=int, default=5, help="passes over the frames per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per decoder (best counts)")
    parser.add_argument("--generated", type=int, default=200, help="generated frames to add")
    args = parser.parse_args(argv)

    try:
        import yfinance
        from google.protobuf.internal import api_implementation
        from yfinance.live import BaseWebSocket
    except ImportError:
        print("yfinance is not installed; run: uv run --with yfinance python tests/bench/decode.py")
        return 2

    payloads = [base64.b64decode(b64) for b64 in GOLDEN]
    payloads += [encode_pricing(quote) for quote in realistic_quotes(args.generated)]
    base64_frames = [legacy_frame(payload) for payload in payloads]
    envelope_frames = [envelope_frame(payload) for payload in payloads]

    # _decode_message uses only self.logger/self.verbose on errors: skip __init__'s logger setup.
    ws = BaseWebSocket.__new__(BaseWebSocket)
    yf_decode = ws._decode_message

    def yf_listener(frame: str) -> object:
        return yf_decode(json.loads(frame)["message"])

    received_us = 1_761_785_160_123_456  # a fixed stamp: no clock read inside the loop

    def ours(frame: str) -> object:
        return decode_frame(frame, received_us)

    def betterproto2(b64: str) -> object:
        return PricingData.parse(base64.b64decode(b64))

    for b64, env in zip(base64_frames, envelope_frames, strict=True):
        mine, theirs = decode_frame(env, 0), yf_decode(b64)
        assert isinstance(mine, Quote), mine
        assert mine.symbol == theirs["id"]
        assert mine.ts_upstream == int(theirs["time"]) * 1000
        assert decode_frame(b64, 0) == mine

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, yfinance {yfinance.__version__}, "
        f"protobuf backend {api_implementation.Type()}"
    )
    print(
        f"{len(base64_frames)} frames ({len(GOLDEN)} golden + {args.generated} generated), "
        f"{args.rounds} rounds x best of {args.repeat}\n"
    )
    envelope = race(
        {
            "rsdev decode_frame": (ours, envelope_frames),
            "yfinance json.loads + _decode_message": (yf_listener, envelope_frames),
        },
        args.rounds,
        args.repeat,
    )
    legacy = race(
        {
            "rsdev decode_frame": (ours, base64_frames),
            "yfinance _decode_message": (yf_decode, base64_frames),
            "betterproto2 b64decode + parse": (betterproto2, base64_frames),
        },
        args.rounds,
        args.repeat,
    )
    for title, results in (("envelope (?version=2)", envelope), ("legacy base64", legacy)):
        print(f"{title} frames:")
        ours_rate = results["rsdev decode_frame"]
        for name, rate in results.items():
            ratio = "" if name.startswith("rsdev") else f"  (rsdev is {ours_rate / rate:.2f}x)"
            print(f"  {name:40s} {rate:10,.0f} frames/s{ratio}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
