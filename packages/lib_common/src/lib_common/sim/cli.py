"""`yahoo-sim`: run the upstream simulator on a loopback port until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace

import anyio
from loguru import logger

from lib_common.logging import add_logging_arguments, setup_logging_from_args
from lib_common.sim.config import SimConfig
from lib_common.sim.simulator import run_simulator

__all__ = ["build_parser", "main"]

_EPILOG = """\
endpoints (one port):
  ws://HOST:PORT/?version=2                 Yahoo streamer, JSON envelope frames
                                            {"type":"pricing","message":"<base64 PricingData>"}
  ws://HOST:PORT/                           Yahoo streamer, legacy bare base64 frames
      client sends {"subscribe":["AAPL","BTC-USD"]} / {"unsubscribe":["AAPL"]}; no acks;
      a snapshot per newly subscribed symbol; beyond --symbol-cap silently dropped
  GET http://HOST:PORT/v8/finance/chart/SYMBOL?interval=1m&range=1d     Yahoo chart REST
  GET http://HOST:PORT/index/fearandgreed/graphdata[/YYYY-MM-DD]        CNN Fear & Greed
      (needs a User-Agent containing "Mozilla/", else 418, unless --no-cnn-ua-check)

fault API:
  POST   /_sim/fault   JSON body {"kind": K, ...}; answers the active fault (201)
  GET    /_sim/fault   the active faults
  DELETE /_sim/fault   clear every fault now (stalls resume, hung requests are answered)
  GET    /_sim/stats   connections, per-symbol subscribe/unsubscribe counts, frames, faults
  kinds (WebSocket): stall, disconnect (abort: clients see 1006), close (code, default
    1000), garbage (variant: bad_json, bad_base64, bad_protobuf, unknown_fields,
    unknown_enum, binary_frame, mixed), slow (delay seconds per message, or rate msg/s)
  kinds (HTTP): 429 (retry_after), 500, 418, down_page ("Will be right back"; status,
    default 503), hang (never answers until cleared)
  lifetime: "duration" seconds or "count" frames/requests/connections, else until
    cleared; "target": ws, rest or cnn (HTTP kinds default to both rest and cnn)

examples:
  yahoo-sim --port 8765 --rate 50 --seed 7
  curl -X POST http://127.0.0.1:8765/_sim/fault -d '{"kind":"stall","duration":5}'
  curl -X POST http://127.0.0.1:8765/_sim/fault -d '{"kind":"429","count":3,"retry_after":2}'
  curl -X DELETE http://127.0.0.1:8765/_sim/fault
  curl http://127.0.0.1:8765/_sim/stats

exit codes: 0 clean shutdown, 1 cannot listen, 2 bad arguments.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yahoo-sim",
        description="A loopback simulator of Yahoo Finance streaming and REST and of CNN's "
        "Fear & Greed index, deterministic per seed, with fault injection. For tests and "
        "demos: it never contacts the real services.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one and prints it (default 0)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        metavar="MSGS_PER_S",
        help="quote messages per second in total, round-robin over all subscribed symbols; "
        "0 sends only the snapshots on subscribe (default 10)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of every symbol's random walk: same seed, same prices (default 0)",
    )
    parser.add_argument(
        "--symbol-cap",
        type=int,
        default=100,
        metavar="N",
        help="symbols per WebSocket connection; more are silently dropped (default 100)",
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=30,
        metavar="SECONDS",
        help="Retry-After of a 429 fault that does not set its own (default 30)",
    )
    parser.add_argument(
        "--unknown-symbol",
        action="append",
        default=None,
        metavar="SYMBOL",
        help="a symbol with no data (no quotes, REST 404); repeatable "
        "(default INVALID, NOSUCHSYMBOL, DELISTED)",
    )
    parser.add_argument(
        "--no-cnn-ua-check",
        action="store_true",
        help="serve CNN data to any User-Agent (by default non-browser agents get 418, like CNN)",
    )
    parser.add_argument(
        "--close-on-bad-control",
        action="store_true",
        help="close a connection (no status) that sends malformed control JSON, as Yahoo "
        "reportedly does (by default such messages are ignored)",
    )
    add_logging_arguments(parser)
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error(
            f"--host {args.host!r} is not a loopback address; the simulator is loopback-only"
        )
    try:
        config = SimConfig(
            host=args.host,
            port=args.port,
            rate=args.rate,
            seed=args.seed,
            symbol_cap=args.symbol_cap,
            retry_after=args.retry_after,
            cnn_require_browser_ua=not args.no_cnn_ua_check,
            close_on_bad_control=args.close_on_bad_control,
        )
        if args.unknown_symbol:
            config = replace(config, unknown_symbols=frozenset(args.unknown_symbol))
    except ValueError as exc:
        parser.error(str(exc))
    with setup_logging_from_args("yahoo-sim", args):
        try:
            anyio.run(_serve, config)
        except OSError as exc:
            logger.error("yahoo-sim cannot listen on {}:{}: {}", config.host, config.port, exc)
            return 1
    return 0


async def _serve(config: SimConfig) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with run_simulator(config) as sim:
            print(
                f"yahoo-sim listening on {sim.base_url}\n"
                f"  stream  {sim.ws_url}  (legacy: {sim.legacy_ws_url})\n"
                f"  chart   {sim.chart_url('AAPL')}\n"
                f"  cnn     {sim.cnn_url}\n"
                f"  control {sim.base_url}/_sim/fault  {sim.base_url}/_sim/stats",
                flush=True,
            )
            async for signum in signals:
                logger.info("yahoo-sim: {} received, shutting down", signal.Signals(signum).name)
                break


if __name__ == "__main__":
    sys.exit(main())
