#!/usr/bin/env python3
"""print_quotes: a small restream client that prints live quotes with their latency.

    python apps/consumer/print_quotes.py AAPL BTC-USD ^GSPC
    python apps/consumer/print_quotes.py --url ws://127.0.0.1:8765/ws --count 10 AAPL

One line per quote on stdout:

    15:40:33.102  AAPL        232.35   +2.16%  stream  in→out 0.07 ms  out→here 0.31 ms

`in→out` is restream's own processing (ts_library_out − ts_library_in), `out→here` the
network and this process (receive time − ts_library_out; both clocks are this machine's
when restream runs locally). Status changes, errors and reconnects go to stderr.

It reconnects after any disconnect with jittered exponential backoff (0.5 s doubling up
to --max-backoff) and subscribes again; Ctrl-C or SIGTERM closes the connection politely
and exits 0. A refused auth token exits 2 (retrying cannot help). The only dependency is
`websockets`. The protocol is docs/protocol.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

DEFAULT_URL = "ws://127.0.0.1:8765/ws"
FIRST_BACKOFF = 0.5  # seconds before the first reconnect; doubles up to --max-backoff
EXIT_OK, EXIT_USAGE, EXIT_AUTH = 0, 2, 2


class AuthRefused(Exception):
    """restream refused the token: retrying will not help."""


def now_us() -> int:
    return time.time_ns() // 1000


def format_quote(message: dict[str, Any], received_us: int) -> str:
    """One output line for a quote or snapshot message."""
    digits = message.get("price_hint")
    digits = digits if isinstance(digits, int) and 0 <= digits <= 8 else 2
    stamp = datetime.fromtimestamp(received_us / 1e6).strftime("%H:%M:%S.%f")[:-3]
    change = message.get("change_percent")
    change_text = f"{change:+.2f}%" if isinstance(change, int | float) else ""
    kind = message.get("source", "") if message["type"] == "quote" else "snap"
    line = f"{stamp}  {message['symbol']:<10} {message['price']:>12.{digits}f}  {change_text:>7}  "
    line += f"{kind:<6}"
    ts_in, ts_out = message.get("ts_library_in"), message.get("ts_library_out")
    if message["type"] == "quote" and isinstance(ts_in, int) and isinstance(ts_out, int):
        processing, delivery = (ts_out - ts_in) / 1000, (received_us - ts_out) / 1000
        line += f"  in→out {processing:.2f} ms  out→here {delivery:.2f} ms"
    return line


def say(text: str) -> None:
    print(f"print_quotes: {text}", file=sys.stderr, flush=True)


class Printer:
    """Prints the messages of successive connections; counts the quotes printed."""

    def __init__(self, count: int | None) -> None:
        self.count = count
        self.printed = 0

    @property
    def done(self) -> bool:
        return self.count is not None and self.printed >= self.count

    def handle(self, raw: str | bytes, received_us: int) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        if kind in ("quote", "snapshot"):
            print(format_quote(message, received_us), flush=True)
            self.printed += 1
        elif kind == "status":
            mode, market = message.get("mode"), message.get("market")
            say(f"upstream {mode} (market {market}): {message.get('reason', '')}")
        elif kind == "error":
            say(f"error {message.get('code')}: {message.get('message')}")


async def follow(url: str, symbols: list[str], printer: Printer, max_backoff: float) -> None:
    """Print quotes until the printer is done (or forever), reconnecting as needed."""
    delay = FIRST_BACKOFF
    while True:
        try:
            async with connect(url, open_timeout=10, close_timeout=2) as ws:
                say(f"connected to {redact(url)}")
                await ws.send(json.dumps({"op": "subscribe", "symbols": symbols}))
                while not printer.done:
                    raw = await ws.recv()
                    printer.handle(raw, now_us())
                    delay = FIRST_BACKOFF  # this connection works: the next outage starts over
                return
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthRefused(f"HTTP {status}") from None
            reason = f"handshake refused (HTTP {status})"
        except ConnectionClosed as exc:
            received = exc.rcvd
            if received is not None and received.code == 1008 and "token" in received.reason:
                raise AuthRefused(received.reason) from None
            reason = "connection lost"
            if received is not None:
                reason = f"closed ({received.code} {received.reason})"
        except (OSError, TimeoutError, WebSocketException) as exc:
            reason = str(exc) or type(exc).__name__
        wait = delay * (0.5 + random.random() / 2)  # jitter: many clients do not redial in step
        say(f"{reason}; reconnecting in {wait:.1f} s")
        await asyncio.sleep(wait)
        delay = min(max_backoff, delay * 2)


def redact(url: str) -> str:
    """The URL without a token in its query."""
    head, _, query = url.partition("?")
    if not query:
        return url
    parts = [p if not p.startswith("token=") else "token=***" for p in query.split("&")]
    return head + "?" + "&".join(parts)


def with_token(url: str, token: str | None) -> str:
    if not token:
        return url
    return f"{url}{'&' if '?' in url else '?'}token={token}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="print_quotes",
        description="Print live quotes from restream, with latency; reconnects by itself.",
        epilog="Exit codes: 0 done (Ctrl-C, SIGTERM or --count reached), 2 bad usage or "
        "auth token refused.",
    )
    parser.add_argument("symbols", nargs="+", metavar="SYMBOL", help="e.g. AAPL BTC-USD ^GSPC")
    parser.add_argument(
        "--url",
        default=os.environ.get("RESTREAM_URL", DEFAULT_URL),
        help=f"restream feed URL (env RESTREAM_URL; default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("RESTREAM_AUTH_TOKEN"),
        help="auth token, when restream has one (env RESTREAM_AUTH_TOKEN; prefer the env: "
        "flags show in ps)",
    )
    parser.add_argument(
        "--count", type=int, metavar="N", help="exit after N quotes (default: run until stopped)"
    )
    parser.add_argument(
        "--max-backoff",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="longest wait between reconnects (default 10)",
    )
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)  # unwinds: the socket closes politely
    url = with_token(args.url, args.token)
    try:
        await follow(url, args.symbols, Printer(args.count), args.max_backoff)
        return EXIT_OK
    except asyncio.CancelledError:
        say("stopped")
        return EXIT_OK
    except AuthRefused as exc:
        say(f"restream refused the auth token ({exc}): set --token or RESTREAM_AUTH_TOKEN")
        return EXIT_AUTH


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.count is not None and args.count < 1:
        print("print_quotes: error: --count must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    with contextlib.suppress(BrokenPipeError):  # e.g. `print_quotes.py AAPL | head`
        return asyncio.run(main_async(args))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
