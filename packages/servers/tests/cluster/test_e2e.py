"""The acceptance scenarios: real restream processes, a real redis-server, a yahoo-sim.

The simulator runs in the test's event loop, so a sampler task can watch its open
upstream connections every few milliseconds while leaders die, freeze and Redis restarts.
Every node runs with a 2 s leadership TTL (`E2E_TTL`).
"""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from lib_common.sim import SimConfig, Simulator, run_simulator

from ..conftest import open_client, send_json, wait_for
from .conftest import E2E_TTL, NodeProcess, RedisServer, StartNodes, eventually

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class Sampler:
    """The most upstream connections the simulator had open at once, sampled every 5 ms."""

    sim: Simulator
    most: int = 0

    async def run(self) -> None:
        while True:
            self.most = max(self.most, self.sim.stats()["connections"]["current"])
            await anyio.sleep(0.005)


@asynccontextmanager
async def sampling(sim: Simulator) -> AsyncIterator[Sampler]:
    sampler = Sampler(sim)
    async with anyio.create_task_group() as tg:
        tg.start_soon(sampler.run)
        yield sampler
        tg.cancel_scope.cancel()


async def subscribed_clients(
    stack: AsyncExitStack, plan: Sequence[tuple[NodeProcess, list[str]]]
) -> list[ClientConnection]:
    """One client per (node, symbols), subscribed."""
    clients = []
    for node, symbols in plan:
        ws = await open_client(node.ws_url)
        stack.push_async_callback(ws.close)
        await send_json(ws, {"op": "subscribe", "symbols": symbols})
        clients.append(ws)
    return clients


async def next_quote(
    ws: ClientConnection, *, after_us: int = 0, within: float = 15.0
) -> dict[str, Any]:
    """The next live quote produced upstream after `after_us` (its ts_library_in)."""
    return await wait_for(
        ws,
        lambda m: m.get("type") == "quote" and m["ts_library_in"] > after_us,
        within=within,
    )


async def cluster_views(nodes: Sequence[NodeProcess]) -> list[dict[str, Any]]:
    return [(await node.health())["cluster"] for node in nodes]


async def the_leader(nodes: Sequence[NodeProcess]) -> tuple[int, dict[str, Any]]:
    """(index, cluster view) of the one leader, once every node agrees on it."""
    found: list[tuple[int, dict[str, Any]]] = []

    async def settled() -> bool:
        views = await cluster_views(nodes)
        leading = [(i, v) for i, v in enumerate(views) if v["role"] == "leader"]
        if len(leading) != 1 or {v["leader"] for v in views} != {leading[0][1]["node"]}:
            return False
        found.append(leading[0])
        return True

    with anyio.fail_after(10):
        while True:  # the nodes' state lives in other processes
            if await settled():
                return found[-1]
            await anyio.sleep(0.05)


async def test_three_nodes_share_one_upstream_and_survive_the_leaders_death(
    start_nodes: StartNodes,
) -> None:
    """Clients spread over three nodes get quotes for exactly what they subscribed, with
    true timestamps end to end, through one upstream connection and one subscribe per
    symbol. Then kill -9 the leader: another node takes over within TTL + 2 s, clients on
    the surviving nodes get fresh quotes without doing anything, and the simulator never
    had two upstream connections open at once."""
    async with run_simulator(SimConfig(rate=60, seed=11)) as sim, AsyncExitStack() as stack:
        nodes = await start_nodes(3, sim)
        plan = [
            (nodes[0], ["AAPL", "MSFT"]),
            (nodes[1], ["AAPL", "BTC-USD"]),
            (nodes[2], ["MSFT", "ETH-USD"]),
            (nodes[2], ["AAPL"]),
        ]
        clients = await subscribed_clients(stack, plan)
        for ws, (_, symbols) in zip(clients, plan, strict=True):
            seen: set[str] = set()
            while seen != set(symbols):
                quote = await next_quote(ws)
                assert quote["symbol"] in symbols
                received = now_us()
                assert quote["ts_library_in"] <= quote["ts_bus"] <= quote["ts_library_out"]
                assert quote["ts_library_out"] <= received
                seen.add(quote["symbol"])
        stats = sim.stats()
        assert {"AAPL": 1, "MSFT": 1, "BTC-USD": 1, "ETH-USD": 1} == stats["subscribe_counts"]
        assert 1 == stats["connections"]["total"]
        index, old = await the_leader(nodes)
        with anyio.fail_after(10):
            while True:  # the leader counts the members at each heartbeat (TTL/3)
                if 3 == (await nodes[index].health())["cluster"]["nodes"]:
                    break
                await anyio.sleep(0.1)
        assert "ok" == (await nodes[index].health())["status"]
        async with httpx.AsyncClient(timeout=5) as http:
            metrics = (await http.get(nodes[index].url + "metrics")).text
        assert 'restream_cluster_role{role="leader"} 1.0' in metrics
        assert "restream_cluster_bus_lag_seconds_bucket" in metrics

        async with sampling(sim) as sampler:
            killed_at, started = now_us(), time.monotonic()
            nodes[index].kill()
            for i, (node, _) in enumerate(plan):
                if node is not nodes[index]:
                    await next_quote(clients[i], after_us=killed_at, within=E2E_TTL + 5)
            takeover = time.monotonic() - started
        assert takeover <= E2E_TTL + 2.0, f"quotes resumed {takeover:.2f} s after the kill"
        assert sampler.most <= 1
        _, new = await the_leader([n for i, n in enumerate(nodes) if i != index])
        assert new["node"] != old["node"]
        assert new["token"] > old["token"]
        assert 2 == sim.stats()["connections"]["total"]  # one per term


async def test_redis_restart_under_load(start_nodes: StartNodes, redis_server: RedisServer) -> None:
    """Redis dies under load and comes back empty: the leader stops its upstream at once,
    nodes reconnect, one leader is elected with a higher token than before (the counter
    was lost with the data), and quotes resume on every node."""
    async with run_simulator(SimConfig(rate=300, seed=13)) as sim, AsyncExitStack() as stack:
        nodes = await start_nodes(2, sim)
        symbols = ["AAPL", "MSFT", "BTC-USD", "ETH-USD", "^GSPC"]
        clients = await subscribed_clients(stack, [(n, symbols) for n in nodes])
        for ws in clients:
            await next_quote(ws)
        _, before = await the_leader(nodes)
        async with sampling(sim) as sampler:
            redis_server.stop(signal.SIGKILL)
            await eventually(lambda: sim.stats()["connections"]["current"] == 0, within=5)
            await anyio.to_thread.run_sync(redis_server.start)
            restarted = now_us()
            for ws in clients:
                await next_quote(ws, after_us=restarted, within=15)
        assert sampler.most <= 1
        _, after = await the_leader(nodes)
        assert after["token"] > before["token"]
        views = await cluster_views(nodes)
        assert all(v["redis"]["failures"] >= 1 and v["redis"]["connected"] for v in views)


async def test_a_paused_leader_steps_down_when_it_wakes(start_nodes: StartNodes) -> None:
    """SIGSTOP the leader: the other node takes over within TTL + 2 s. SIGCONT: the old
    leader finds its lease gone, closes its upstream connection at once and follows."""
    async with run_simulator(SimConfig(rate=60, seed=14)) as sim, AsyncExitStack() as stack:
        nodes = await start_nodes(2, sim)
        clients = await subscribed_clients(stack, [(n, ["AAPL"]) for n in nodes])
        for ws in clients:
            await next_quote(ws)
        index, old = await the_leader(nodes)
        other = 1 - index
        paused_at, started = now_us(), time.monotonic()
        nodes[index].signal(signal.SIGSTOP)
        await next_quote(clients[other], after_us=paused_at, within=E2E_TTL + 5)
        assert time.monotonic() - started <= E2E_TTL + 2.0
        # A frozen process cannot close its socket: the upstream sees it open until it wakes.
        nodes[index].signal(signal.SIGCONT)
        resumed = time.monotonic()
        await eventually(lambda: sim.stats()["connections"]["current"] == 1, within=5)
        assert time.monotonic() - resumed < 2.0
        _, new = await the_leader(nodes)
        assert new["node"] != old["node"]
        view = (await nodes[index].health())["cluster"]
        assert "follower" == view["role"]
        assert view["step_downs"], view
        await next_quote(clients[index], after_us=now_us(), within=10)
