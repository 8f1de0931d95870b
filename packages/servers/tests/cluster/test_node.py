"""Cluster nodes in the test's event loop: real Redis, real stream client, simulator."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import SimConfig, run_simulator
from rsdev_servers.cluster.codec import encode_batch, quote_record
from rsdev_servers.cluster.naming import ClusterKeys

from .conftest import RedisServer, eventually, in_process_nodes, leaders

pytestmark = pytest.mark.anyio


def now_us() -> int:
    return time.time_ns() // 1000


async def test_one_leader_one_upstream_subscribe_quotes_everywhere(
    redis_server: RedisServer,
) -> None:
    """Three nodes elect one leader; each symbol is subscribed upstream once whatever the
    number of nodes wanting it; every node relays its clients' symbols, stamped ts_bus."""
    async with (
        run_simulator(SimConfig(rate=60, seed=1)) as sim,
        in_process_nodes(redis_server.url, sim, 3) as nodes,
    ):
        wants = [["AAPL"], ["AAPL", "MSFT"], ["MSFT", "BTC-USD"]]
        for node, symbols in zip(nodes, wants, strict=True):
            node.node.subscribe(1, symbols)
        for node, symbols in zip(nodes, wants, strict=True):
            await node.recorder.wait_for(
                lambda node=node, symbols=symbols: all(node.quotes_of(s) for s in symbols)
            )
            assert {q.symbol for q in node.recorder.relayed} <= set(symbols)
        (leader,) = leaders(nodes)
        assert {leader.node.node_id} == {n.node.leadership.leader for n in nodes}
        stats = sim.stats()
        assert {"AAPL": 1, "MSFT": 1, "BTC-USD": 1} == stats["subscribe_counts"]
        assert 1 == stats["connections"]["total"]
        quote = nodes[1].quotes_of("MSFT")[-1]
        assert quote.ts_upstream <= quote.ts_library_in <= quote.ts_bus <= now_us()
        await eventually(lambda: leader.node.stats().nodes == 3)  # at its next heartbeat


async def test_a_late_node_gets_the_last_value_from_redis(redis_server: RedisServer) -> None:
    """With no more quotes coming (rate 0: only the upstream's snapshot on subscribe), a
    node that starts following a symbol later still gets its value, as a snapshot."""
    async with (
        run_simulator(SimConfig(rate=0, seed=2)) as sim,
        in_process_nodes(redis_server.url, sim, 2) as nodes,
    ):
        first, late = nodes
        first.node.subscribe(1, ["AAPL"])
        await first.recorder.wait_for(lambda: bool(first.quotes_of("AAPL")))
        late.node.subscribe(7, ["AAPL"])
        await late.recorder.wait_for(lambda: bool(late.quotes_of("AAPL")))
        (snapshot,) = late.quotes_of("AAPL")
        assert snapshot.snapshot
        assert b'"type":"snapshot"' in snapshot.payload(1)
        assert first.quotes_of("AAPL")[0].ts_library_in == snapshot.ts_library_in
        assert late.node.last_quote("AAPL") is not None
        assert 1 == sim.stats()["subscribe_counts"]["AAPL"]


async def test_a_leader_that_stops_hands_over_at_once(redis_server: RedisServer) -> None:
    """A leader shutting down releases the lock and says so: the next node leads well
    within the TTL (here 3 s), with a higher token."""
    async with (
        run_simulator(SimConfig(rate=40, seed=3)) as sim,
        in_process_nodes(redis_server.url, sim, 2, ttl=3.0) as nodes,
    ):
        for node in nodes:
            node.node.subscribe(1, ["AAPL"])
        await eventually(lambda: len(leaders(nodes)) == 1)
        (old,) = leaders(nodes)
        (other,) = [n for n in nodes if n is not old]
        token = other.node.gate.current
        await other.recorder.wait_for(lambda: bool(other.quotes_of("AAPL")))
        started = time.monotonic()
        old.stop()
        await eventually(lambda: other.role == "leader", within=2.5)
        assert time.monotonic() - started < 2.0
        assert other.node.gate.current > token
        seen = len(other.quotes_of("AAPL"))
        await other.recorder.wait_for(lambda: len(other.quotes_of("AAPL")) > seen + 2)


async def test_a_leader_whose_lock_is_taken_stops_its_upstream(
    redis_server: RedisServer,
) -> None:
    """Someone else holds the lock (as after a pause longer than the TTL): the leader's
    next renew fails, it closes its upstream connection, and every node follows the lock's
    token; once the lock is free a new term starts with a higher token still."""
    async with (
        run_simulator(SimConfig(rate=40, seed=4)) as sim,
        in_process_nodes(redis_server.url, sim, 2) as nodes,
    ):
        nodes[0].node.subscribe(1, ["AAPL"])
        await nodes[0].recorder.wait_for(lambda: bool(nodes[0].quotes_of("AAPL")))
        (leader,) = leaders(nodes)
        keys = ClusterKeys("test")
        with redis_server.client() as client:
            client.set(keys.lock, "99 intruder", px=60_000)
        await eventually(lambda: sim.stats()["connections"]["current"] == 0, within=TTL_SLACK)
        await eventually(lambda: leader.role == "follower")
        (reason,) = leader.node.stats().step_downs  # a failed renew or a fenced publish
        assert reason in ("the lock is no longer ours", FENCED)
        await eventually(lambda: all(n.node.gate.current == 99 for n in nodes))
        with redis_server.client() as client:
            client.delete(keys.lock)
        await eventually(lambda: len(leaders(nodes)) == 1, within=TTL_SLACK)
        assert all(n.node.gate.current == 100 for n in nodes if n.role == "leader")


TTL_SLACK = 3.0  # the test TTL (1 s) plus scheduling on a loaded machine
FENCED = "Redis refused the publish: the lock is not ours"


async def test_messages_of_an_older_term_are_dropped(redis_server: RedisServer) -> None:
    """A bus batch fenced with a token older than the current term never reaches clients."""
    async with (
        run_simulator(SimConfig(rate=0, seed=5)) as sim,
        in_process_nodes(redis_server.url, sim, 1) as (node,),
    ):
        node.node.subscribe(1, ["AAPL"])
        await node.recorder.wait_for(lambda: bool(node.quotes_of("AAPL")))
        token = node.node.gate.current
        assert token >= 1
        keys = ClusterKeys("test")
        last = node.quotes_of("AAPL")[-1]
        stale = Quote("AAPL", 1.0, last.ts_upstream + 1, last.ts_library_in + 1)
        fresh = Quote("AAPL", 2.0, last.ts_upstream + 2, last.ts_library_in + 2)
        client = Redis.from_url(redis_server.url)
        channel = keys.bus(keys.shard_of("AAPL"))
        await client.spublish(channel, encode_batch(token - 1, now_us(), [quote_record(stale)]))
        await client.spublish(channel, encode_batch(token, now_us(), [quote_record(fresh)]))
        await client.aclose()
        await node.recorder.wait_for(
            lambda: node.quotes_of("AAPL")[-1].ts_upstream == fresh.ts_upstream
        )
        assert stale.ts_upstream not in {q.ts_upstream for q in node.quotes_of("AAPL")}
        assert 1 == node.node.stats().stale_rejected


async def test_a_node_that_leaves_lets_its_symbols_linger_then_go(
    redis_server: RedisServer,
) -> None:
    """When a node leaves, the leader drops its interest: its symbols linger (0.3 s here)
    and are then unsubscribed upstream once; the others' symbols stay."""
    async with (
        run_simulator(SimConfig(rate=40, seed=6)) as sim,
        in_process_nodes(redis_server.url, sim, 2, linger=0.3) as nodes,
    ):
        await eventually(lambda: len(leaders(nodes)) == 1)
        (leader,) = leaders(nodes)
        (leaving,) = [n for n in nodes if n is not leader]
        leader.node.subscribe(1, ["AAPL"])
        leaving.node.subscribe(1, ["MSFT"])
        await leaving.recorder.wait_for(lambda: bool(leaving.quotes_of("MSFT")))
        leaving.stop()
        await eventually(lambda: sim.stats()["unsubscribe_counts"].get("MSFT") == 1)
        assert "MSFT" not in sim.stats()["subscribed"]
        assert "AAPL" in sim.stats()["subscribed"]
        assert 1 == sim.stats()["subscribe_counts"]["MSFT"]


async def test_a_new_session_replaces_the_interest_redis_kept(redis_server: RedisServer) -> None:
    """When the node's Redis connections break but Redis keeps its data, the new session
    rewrites the node's interest set: nothing an earlier session left stays upstream."""
    async with (
        run_simulator(SimConfig(rate=20, seed=7)) as sim,
        in_process_nodes(redis_server.url, sim, 1) as (node,),
    ):
        node.node.subscribe(1, ["AAPL"])
        await node.recorder.wait_for(lambda: bool(node.quotes_of("AAPL")))
        key = ClusterKeys("test").interest("node0")
        with redis_server.client() as client:
            client.sadd(key, "STALE")
            client.execute_command("CLIENT", "KILL", "TYPE", "normal")
            client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await eventually(lambda: node.node.stats().sessions == 2)
        with redis_server.client() as client:
            await eventually(lambda: client.smembers(key) == {b"AAPL"})
        seen = len(node.quotes_of("AAPL"))
        await node.recorder.wait_for(lambda: len(node.quotes_of("AAPL")) > seen)
