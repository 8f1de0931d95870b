"""The Lua scripts against a real redis-server: the lock, the fence, membership."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from redis.asyncio import Redis

from rsdev_servers.cluster.codec import decode_batch
from rsdev_servers.cluster.naming import ClusterKeys
from rsdev_servers.cluster.scripts import ClusterScripts

from .conftest import RedisServer

pytestmark = pytest.mark.anyio

KEYS = ClusterKeys("t", shards=4)


@pytest.fixture
async def scripts(redis_server: RedisServer) -> AsyncIterator[tuple[Redis, ClusterScripts]]:
    client = Redis.from_url(redis_server.url)
    yield client, ClusterScripts(client, KEYS)
    await client.aclose()


async def test_one_contender_wins_and_the_other_learns_who(
    scripts: tuple[Redis, ClusterScripts],
) -> None:
    """The free lock goes to the first contender with token 1; the second sees the holder."""
    _, s = scripts
    assert (True, b"1 a") == await s.acquire("a", 5000, 0)
    assert (False, b"1 a") == await s.acquire("b", 5000, 0)


async def test_tokens_only_grow(scripts: tuple[Redis, ClusterScripts]) -> None:
    """Each acquisition gets a higher token than every one before it."""
    _, s = scripts
    tokens = []
    for node in ("a", "b", "a", "c"):
        won, value = await s.acquire(node, 5000, 0)
        assert won
        tokens.append(int(value.split()[0]))
        assert await s.release(value.decode())
    assert [1, 2, 3, 4] == tokens


async def test_a_redis_that_lost_its_data_never_reissues_an_old_token(
    scripts: tuple[Redis, ClusterScripts], redis_server: RedisServer
) -> None:
    """After a restart without persistence the counter is gone; the contender's highest
    seen token is the floor, so the new term still outranks the old one."""
    _, s = scripts
    await s.acquire("a", 5000, 0)
    await s.release("1 a")
    redis_server.flush()  # what a restart without persistence leaves
    assert (True, b"8 b") == await s.acquire("b", 5000, 7)


async def test_only_the_holder_renews_or_releases(scripts: tuple[Redis, ClusterScripts]) -> None:
    """Renew and release compare the value: another node's (or an old term's) do nothing."""
    client, s = scripts
    await s.acquire("a", 5000, 0)
    assert not await s.renew("1 b", 5000)
    assert not await s.release("0 a")
    assert await s.renew("1 a", 60_000)
    assert 50_000 < await client.pttl(KEYS.lock) <= 60_000
    assert await s.release("1 a")
    assert await client.get(KEYS.lock) is None


async def test_a_paused_leader_loses_to_the_next_term(
    scripts: tuple[Redis, ClusterScripts],
) -> None:
    """A leader that did not renew in time finds its lock taken: its renew fails, its
    publish is fenced off (-1, nothing published), the new leader's goes through."""
    client, s = scripts
    await s.acquire("old", 100, 0)  # a 100 ms lease, never renewed: "paused"
    with anyio.fail_after(5):
        while True:  # until Redis expired the old lease
            if (await s.acquire("new", 5000, 1))[0]:
                break
            await anyio.sleep(0.02)
    assert "2 new" == (await client.get(KEYS.lock)).decode()
    assert not await s.renew("1 old", 5000)
    pubsub = client.pubsub()
    await pubsub.ssubscribe(KEYS.bus(0))
    await pubsub.get_message(timeout=1)  # the subscription confirmation
    assert -1 == await s.publish("1 old", [(KEYS.bus(0), b"B1 1 0\nstale")], [], None)
    assert 1 == await s.publish("2 new", [(KEYS.bus(0), b"B1 2 0\nfresh")], [], None)
    message = await pubsub.get_message(timeout=2)
    assert message is not None
    assert 2 == decode_batch(message["data"]).token
    await pubsub.aclose()


async def test_publish_stores_last_values_and_the_status(
    scripts: tuple[Redis, ClusterScripts],
) -> None:
    """The fenced publish writes the last record of each symbol and the status atomically."""
    client, s = scripts
    await s.acquire("a", 5000, 0)
    count = await s.publish(
        "1 a", [(KEYS.bus(1), b"B1 1 5\nQ AAPL")], [("AAPL", b"5 Q AAPL")], b"S 1 {}"
    )
    assert 1 == count
    assert b"5 Q AAPL" == await client.hget(KEYS.last, "AAPL")
    assert b"S 1 {}" == await client.get(KEYS.status)


async def test_membership_expires_without_heartbeats(
    scripts: tuple[Redis, ClusterScripts],
) -> None:
    """A node that stops beating drops out of the member list after its TTL."""
    client, s = scripts
    await client.sadd(KEYS.interest("b"), "AAPL")
    assert 1 == await s.heartbeat("a", 5000, "{}")
    assert 2 == await s.heartbeat("b", 100, "{}")
    assert 0 < await client.pttl(KEYS.interest("b")) <= 100
    assert ["a", "b"] == sorted(await s.members())
    with anyio.fail_after(5):
        while True:  # until b's 100 ms membership ran out (Redis's clock)
            if "b" not in await s.members():
                break
            await anyio.sleep(0.02)
    assert ["a"] == await s.members()
