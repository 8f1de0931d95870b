"""Many Yahoo clients share one upstream: a real server-yahoo process on a yahoo-sim the test
runs, whose `/_sim/stats` counts every subscribe/unsubscribe the upstream received."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from lib_common.sim import SimConfig, run_simulator

from .conftest import YahooClient, YahooProcess, spawn, upstream_args

pytestmark = pytest.mark.anyio

CLIENTS = 200
# Crypto names: they trade around the clock, so the real market calendar keeps them live.
POOL = [f"S{i:02d}-USD" for i in range(16)]


def symbols_of(i: int) -> list[str]:
    """Client i's overlapping set: three pool symbols, shared with many other clients."""
    return [POOL[i % 16], POOL[(i * 5 + 3) % 16], POOL[(i // 16) % 16]]


async def connect_all(url: str, count: int) -> list[YahooClient]:
    """`count` clients, odd ones in the envelope format, even ones legacy."""
    clients: list[YahooClient | None] = [None] * count
    limiter = anyio.CapacityLimiter(25)

    async def one(i: int) -> None:
        async with limiter:
            clients[i] = await YahooClient.open(url if i % 2 else url.replace("?version=2", ""))

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, i)
    return [c for c in clients if c is not None]


async def close_all(clients: list[YahooClient]) -> None:
    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(client.aclose)


async def subscribe_all(clients: list[YahooClient], *, resend: bool = False) -> None:
    for i, client in enumerate(clients):
        await client.subscribe(symbols_of(i))
        if resend:  # what yfinance does every 15 s: the whole list again
            await client.subscribe(symbols_of(i))


async def each_sees_its_symbols(clients: list[YahooClient]) -> None:
    async with anyio.create_task_group() as tg:
        for i, client in enumerate(clients):
            tg.start_soon(client.see_all, set(symbols_of(i)), 20.0)


async def test_200_clients_one_upstream_subscribe_per_symbol_and_linger(
    start_server_yahoo: Callable[..., YahooProcess],
) -> None:
    """200 clients with overlapping sets (each sending its list twice) → the upstream got
    each symbol's subscribe exactly once; all 200 leave and come back within the linger →
    no upstream traffic at all, and they are served again."""
    async with run_simulator(SimConfig(rate=200, seed=3)) as sim:
        server = await spawn(
            start_server_yahoo, *upstream_args(sim), "--upstream-heartbeat", "0",
            "--linger", "60", "--max-ops-per-second", "50",
        )  # fmt: skip
        clients = await connect_all(server.ws_url, CLIENTS)
        await subscribe_all(clients, resend=True)
        await each_sees_its_symbols(clients)

        wanted = sorted({s for i in range(CLIENTS) for s in symbols_of(i)})
        assert POOL == wanted
        stats = sim.stats()
        assert dict.fromkeys(POOL, 1) == stats["subscribe_counts"]
        assert {} == stats["unsubscribe_counts"]
        assert 1 == stats["connections"]["total"]

        await close_all(clients)
        # Every symbol is now unwanted but lingering upstream (still subscribed).
        health = await server.wait_health(lambda h: h["upstream"]["symbols"]["clients"] == 0)
        assert len(POOL) == health["upstream"]["symbols"]["lingering"]

        clients = await connect_all(server.ws_url, CLIENTS)
        await subscribe_all(clients)
        await each_sees_its_symbols(clients)
        assert stats["subscribe_counts"] == sim.stats()["subscribe_counts"]
        assert {} == sim.stats()["unsubscribe_counts"]
        assert 1 == sim.stats()["connections"]["total"]
        health = await server.health()
        assert 0 == health["upstream"]["symbols"]["lingering"]
        assert len(POOL) == health["upstream"]["symbols"]["active"]
        await close_all(clients)
