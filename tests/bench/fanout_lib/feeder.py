"""The feeder process: one upstream stream at a fixed rate, the same for every gateway.

    python -m fanout_lib.feeder        (commands on stdin, see `fanout_lib.control`)

One loopback port serves two streams of the same messages (round-robin over the
workload's symbols, `rate` messages per second in total):

- `ws://…/?version=2`: Yahoo's streaming protocol (`{"subscribe":[…]}`, envelope frames)
  for restream, which subscribes upstream to what its clients want (on as many
  connections as it likes; each symbol's frame goes to the connections holding it);
- `ws://…/json`: every symbol's quote as JSON (see `fanout_lib.quotes`) for the peer
  gateways, which subscribe to nothing: they get everything and filter per client.

A second port runs the project's simulator (`lib_common.sim`, rate 0) only so restream
has a loopback REST and CNN upstream to point at.

Commands: `setup` {symbols, seed, rate} → the URLs; `rate` {rate}; `window` {t0_ms, t1_ms}
starts counting, per symbol, the messages whose `time` (ms) falls in [t0, t1); `status`;
`report` → {counts, sent, window_sent}. Messages are counted when generated, whoever
receives them: a gateway that is not subscribed to a symbol its clients want loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

from fanout_lib.control import commands, reply
from fanout_lib.quotes import QuotePool
from lib_common.ingestors.yahoo import Subscribe, Unsubscribe, parse_control
from lib_common.net import ServerSettings, WsConnection, serve
from lib_common.sim import SimConfig, run_simulator

_TICK = 0.001  # the pump wakes about every millisecond; each wake sends what is due
_MAX_BURST = 0.05  # after a stall, catch up at most this many seconds of messages


class Feeder:
    """Subscriptions per format, the pacing pump and the window's per-symbol counts."""

    def __init__(self, pool: QuotePool, rate: float) -> None:
        self.pool = pool
        self.rate = rate
        self.index = {s: i for i, s in enumerate(pool.symbols)}
        self.yahoo_subs: list[set[WsConnection]] = [set() for _ in pool.symbols]
        self.json_conns: set[WsConnection] = set()
        self.window = (0, 0)
        self.counts = [0] * len(pool.symbols)
        self.window_sent = 0
        self.sent = 0
        self.pos = 0
        self.wake = asyncio.Event()

    def yahoo_subscribed(self) -> int:
        return sum(1 for subs in self.yahoo_subs if subs)

    async def handle(self, conn: WsConnection) -> None:
        if conn.path == "/json":
            self.json_conns.add(conn)
            self.wake.set()
            try:
                async for _ in conn:
                    pass
            finally:
                self.json_conns.discard(conn)
            return
        held: set[int] = set()
        try:
            async for message in conn:
                request = parse_control(message)
                if isinstance(request, Subscribe):
                    for symbol in request.symbols:
                        i = self.index.get(symbol)
                        if i is not None:
                            self.yahoo_subs[i].add(conn)
                            held.add(i)
                    self.wake.set()
                elif isinstance(request, Unsubscribe):
                    for symbol in request.symbols:
                        i = self.index.get(symbol)
                        if i is not None:
                            self.yahoo_subs[i].discard(conn)
                            held.discard(i)
        finally:
            for i in held:
                self.yahoo_subs[i].discard(conn)

    def _has_consumers(self) -> bool:
        return bool(self.json_conns) or any(self.yahoo_subs)

    async def pump(self) -> None:
        credit = 0.0
        last = time.monotonic()
        while True:
            if self.rate <= 0 or not self._has_consumers():
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), 0.5)
                credit, last = 0.0, time.monotonic()
                continue
            await asyncio.sleep(_TICK)
            now = time.monotonic()
            credit = min(credit + (now - last) * self.rate, max(1.0, self.rate * _MAX_BURST))
            last = now
            count = int(credit)
            if count:
                credit -= count
                self.emit(count)

    def emit(self, count: int) -> None:
        now_us = time.time_ns() // 1000
        ms = now_us // 1000
        counting = self.window[0] <= ms < self.window[1]
        pool = self.pool
        n = len(pool.symbols)
        json_conns = self.json_conns
        batches: dict[WsConnection, list[bytes]] = {}
        for _ in range(count):
            index = self.pos % n
            step = self.pos // n
            self.pos += 1
            if counting:
                self.counts[index] += 1
            subs = self.yahoo_subs[index]
            if subs:
                frame = pool.yahoo_frame(index, step, ms)
                for conn in subs:
                    batches.setdefault(conn, []).append(frame)
            if json_conns:
                frame = pool.json_frame(index, step, ms * 1000, now_us)
                for conn in json_conns:
                    batches.setdefault(conn, []).append(frame)
        self.sent += count
        if counting:
            self.window_sent += count
        for conn, frames in batches.items():
            conn.write_frames(frames)

    def command(self, cmd: dict[str, Any]) -> dict[str, Any]:
        name = cmd["cmd"]
        if name == "rate":
            self.rate = float(cmd["rate"])
            self.wake.set()
            return {"ok": True}
        if name == "window":
            self.counts = [0] * len(self.pool.symbols)
            self.window_sent = 0
            self.window = (int(cmd["t0_ms"]), int(cmd["t1_ms"]))
            return {"ok": True}
        if name == "status":
            return {
                "yahoo_subscribed": self.yahoo_subscribed(),
                "json_consumers": len(self.json_conns),
                "sent": self.sent,
            }
        if name == "report":
            counts = dict(zip(self.pool.symbols, self.counts, strict=True))
            return {"counts": counts, "sent": self.sent, "window_sent": self.window_sent}
        return {"error": f"unknown command {name!r}"}


async def main() -> None:
    cmds = commands()
    setup = await anext(cmds)
    pool = QuotePool(setup["symbols"], int(setup["seed"]))
    feeder = Feeder(pool, float(setup["rate"]))
    settings = ServerSettings(max_queue=1024)
    async with (
        run_simulator(SimConfig(rate=0, seed=int(setup["seed"]))) as sim,
        serve("127.0.0.1", 0, ws_handler=feeder.handle, settings=settings) as server,
        asyncio.TaskGroup() as tg,
    ):
        pump = tg.create_task(feeder.pump())
        base = f"127.0.0.1:{server.port}"
        reply(
            {
                "yahoo_ws": f"ws://{base}/?version=2",
                "json_ws": f"ws://{base}/json",
                "rest": sim.rest_url,
                "cnn": sim.base_url,
            }
        )
        async for cmd in cmds:
            reply(feeder.command(cmd))
        pump.cancel()
        await server.shutdown()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    sys.exit(0)
