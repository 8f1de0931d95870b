"""Peer gateway: a plain Python fan-out on websockets' own server and `broadcast()`.

    python -m fanout_lib.gateway_broadcast --upstream ws://127.0.0.1:P/json [--port 0]

What a careful developer would write with the websockets library: per-symbol sets of
client connections filled by restream's subscribe protocol (`{"op":"subscribe",
"symbols":[…]}`, `unsubscribe` too); per upstream message one `json.loads`, a
`ts_gateway_out` stamp, one `json.dumps`, and `websockets.broadcast(subscribers,
message)`, which frames and writes the message for each subscriber. Compression off on
both sides (as in the other gateways); keepalive pings off on both sides (node ws has
none by default, and under overload a late pong would close the upstream or the clients
instead of showing the overload as latency). Prints `listening on ws://127.0.0.1:PORT/ws`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from collections import defaultdict

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve


class Fanout:
    """Per-symbol subscriber sets and the upstream reader."""

    def __init__(self) -> None:
        self.subs: defaultdict[str, set[ServerConnection]] = defaultdict(set)

    async def client(self, ws: ServerConnection) -> None:
        held: set[str] = set()
        try:
            async for message in ws:
                try:
                    request = json.loads(message)
                    op, symbols = request["op"], request.get("symbols", [])
                except (ValueError, KeyError, TypeError):
                    continue
                if op == "subscribe":
                    for symbol in symbols:
                        self.subs[symbol].add(ws)
                        held.add(symbol)
                elif op == "unsubscribe":
                    for symbol in symbols:
                        self.subs[symbol].discard(ws)
                        held.discard(symbol)
        finally:
            for symbol in held:
                self.subs[symbol].discard(ws)

    async def upstream(self, url: str) -> None:
        subs = self.subs
        async with connect(url, compression=None, max_size=None, ping_interval=None) as up:
            async for message in up:
                quote = json.loads(message)
                targets = subs.get(quote["symbol"])
                if targets:
                    quote["ts_gateway_out"] = time.time_ns() // 1000
                    broadcast(targets, json.dumps(quote, separators=(",", ":")))


async def main(args: argparse.Namespace) -> None:
    fanout = Fanout()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        fanout.client,
        "127.0.0.1",
        args.port,
        compression=None,
        ping_interval=None,
        backlog=2048,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/ws", flush=True)
        upstream = asyncio.create_task(fanout.upstream(args.upstream))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({upstream, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, stopped):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the feeder's ws://…/json URL")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    asyncio.run(main(parser.parse_args()))
