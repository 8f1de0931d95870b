"""Hostile clients against a real restream process, while a well-behaved client watches.

Each abuse gets its documented answer (error frames with the connection left open, or
the documented close code), the bystander keeps receiving quotes throughout, and the
server's memory stays bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import anyio
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from ..conftest import (
    RestreamProcess,
    close_code,
    is_type,
    next_json,
    open_client,
    send_json,
    wait_for,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MAX_SYMBOLS = 10  # small: the demo simulator shares 20 quotes/s among all symbols
RSS_GROWTH_LIMIT_KIB = 24 * 1024  # measured growth: about 2 MiB


class Bystander:
    """A normal client subscribed to two symbols, recording when each quote arrives."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.closed: int | None = None
        self._arrived = anyio.Event()

    async def run(self, url: str, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with await open_client(url) as ws:
            await send_json(ws, {"op": "subscribe", "symbols": ["AAPL", "BTC-USD"]})
            await wait_for(ws, is_type("quote"))
            task_status.started()
            try:
                async for raw in ws:
                    if json.loads(raw)["type"] == "quote":
                        self.arrivals.append(time.monotonic())
                        self._arrived.set()
                        self._arrived = anyio.Event()
            except ConnectionClosed as exc:
                self.closed = exc.rcvd.code if exc.rcvd else 1006

    def quotes_since(self, moment: float) -> int:
        return sum(1 for t in self.arrivals if t >= moment)

    async def next_quote(self) -> None:
        await self._arrived.wait()


async def _phase(bystander: Bystander, name: str, started: float) -> None:
    """The bystander got quotes during the phase (it waits a little for the next one)."""
    with anyio.fail_after(5):
        while bystander.quotes_since(started) == 0:
            await bystander.next_quote()
    assert bystander.closed is None, f"bystander closed during {name}"


async def test_hostile_clients_get_documented_answers(
    start_restream: Callable[..., RestreamProcess],
) -> None:
    """Invalid JSON, 1 MiB frames, 10,000 symbols, 1,000 ops/s and 500 connection churns."""
    restream = await anyio.to_thread.run_sync(
        lambda: start_restream(
            "--demo", "--max-symbols-per-client", str(MAX_SYMBOLS), "--linger", "0"
        )
    )
    url = restream.ws_url
    bystander = Bystander()
    async with anyio.create_task_group() as tg:
        await tg.start(bystander.run, url)
        rss_before = restream.rss_kib()

        # Invalid JSON: an error each, the connection stays open.
        started = time.monotonic()
        async with await open_client(url) as ws:
            await next_json(ws)  # status
            for text in ("not json", "{", '{"op":"dance"}', "[1]"):
                await ws.send(text)
            codes = [(await wait_for(ws, is_type("error")))["code"] for _ in range(4)]
            assert codes == ["bad_json", "bad_json", "unknown_op", "bad_request"]
            await send_json(ws, {"op": "ping", "id": 1})
            assert (await wait_for(ws, is_type("pong")))["id"] == 1
        await _phase(bystander, "invalid JSON", started)

        # A 1 MiB frame: closed with 1009 (message too big).
        started = time.monotonic()
        async with await open_client(url) as ws:
            await ws.send("x" * (1024 * 1024))
            assert await close_code(ws) == 1009
        await _phase(bystander, "1 MiB frame", started)

        # 10,000 symbols in one request, then more symbols than the per-client limit.
        started = time.monotonic()
        async with await open_client(url) as ws:
            await send_json(ws, {"op": "subscribe", "symbols": ["A"] * 10_000, "id": 1})
            error = await wait_for(ws, is_type("error"))
            assert (error["code"], error["id"]) == ("too_many_symbols", 1)
            batch = [f"T{i}" for i in range(MAX_SYMBOLS + 10)]
            await send_json(ws, {"op": "subscribe", "symbols": batch[:MAX_SYMBOLS]})
            ack = await wait_for(ws, is_type("subscribed"))
            assert len(ack["symbols"]) == MAX_SYMBOLS
            await send_json(ws, {"op": "subscribe", "symbols": batch[MAX_SYMBOLS:], "id": 2})
            error = await wait_for(ws, is_type("error"))
            assert (error["code"], error["id"]) == ("too_many_symbols", 2)
            assert len(error["symbols"]) == 10
            await send_json(ws, {"op": "ping"})
            await wait_for(ws, is_type("pong"))
        await _phase(bystander, "10,000 symbols", started)

        # 1,000 operations as fast as possible: rate_limited errors, then close 1008.
        started = time.monotonic()
        async with await open_client(url) as ws:
            pongs = limited = 0
            code: int | None = None
            try:
                for i in range(1000):
                    await send_json(ws, {"op": "ping", "id": i})
            except ConnectionClosed:
                pass
            try:
                while True:
                    message = await next_json(ws)
                    pongs += message["type"] == "pong"
                    limited += message.get("code") == "rate_limited"
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
            assert pongs >= 20
            assert limited >= 1
            assert code == 1008
        await _phase(bystander, "1,000 ops/s", started)

        # 500 connects and disconnects, 25 at a time.
        started = time.monotonic()
        opened = 0

        async def churn(count: int) -> None:
            nonlocal opened
            for _ in range(count):
                async with await open_client(url) as ws:
                    await next_json(ws)  # the status greeting: the session was set up
                    opened += 1

        async with anyio.create_task_group() as churners:
            for _ in range(25):
                churners.start_soon(churn, 20)
        assert opened == 500
        await _phase(bystander, "500 connections", started)

        async with httpx.AsyncClient(base_url=restream.url, timeout=10) as http:
            health = (await http.get("/health")).json()
            with anyio.fail_after(10):
                while health["clients"]["total"] != 1:
                    await anyio.sleep(0.05)
                    health = (await http.get("/health")).json()
        rss_after = restream.rss_kib()
        assert rss_after - rss_before < RSS_GROWTH_LIMIT_KIB, (rss_before, rss_after)
        gaps = [b - a for a, b in zip(bystander.arrivals, bystander.arrivals[1:], strict=False)]
        assert max(gaps) < 3.0, f"bystander starved for {max(gaps):.2f} s"
        tg.cancel_scope.cancel()
    assert bystander.closed is None
