"""The Lua scripts that make each cluster decision atomic in Redis.

- `acquire`: take the free lock and INCR the fencing counter, never below the caller's
  highest seen token (a Redis that lost its data cannot hand out an old token again);
  else return the holder's value;
- `renew` / `release`: PEXPIRE / DEL the lock only if it still holds this term's value;
- `publish`: only if the lock holds this term's value, SPUBLISH every bus batch, HSET the
  last records, store and announce the status;
- `heartbeat`: refresh this node's membership (expiry on Redis's clock), description and
  interest TTL; count the live nodes;
- `members`: drop expired members, list the live ones.

The fenced `publish` is the second line of defence behind the lease (see `lease`): a
leader that lost the lock gets -1 and publishes nothing. redis-py's `AsyncScript` runs
them by EVALSHA and reloads them after a Redis restart (NOSCRIPT).
"""

from __future__ import annotations

from typing import Any, Final

from redis.asyncio import Redis

from rsdev_servers.cluster.naming import ClusterKeys

__all__ = ["ClusterScripts"]

ACQUIRE: Final = """
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
local token = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if token <= floor then
  token = floor + 1
  redis.call('SET', KEYS[2], token)
end
local value = token .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, value}
"""

RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# ARGV: lock value, n, n × (channel, message), m, m × (symbol, record), status message
# ('' for none), control channel.
PUBLISH: Final = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local i = 2
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('SPUBLISH', ARGV[i], ARGV[i + 1]); i = i + 2
end
local m = tonumber(ARGV[i]); i = i + 1
for _ = 1, m do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); i = i + 2
end
if ARGV[i] ~= '' then
  redis.call('SET', KEYS[3], ARGV[i])
  redis.call('SPUBLISH', ARGV[i + 1], ARGV[i])
end
return n
"""

# KEYS: members, node, interest. ARGV: node id, ttl ms, description.
HEARTBEAT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return redis.call('ZCOUNT', KEYS[1], now, '+inf')
"""

MEMBERS: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class ClusterScripts:
    """The scripts, registered on one client, with typed calls."""

    def __init__(self, redis: Redis, keys: ClusterKeys) -> None:
        self._keys = keys
        self._acquire = redis.register_script(ACQUIRE)
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)
        self._publish = redis.register_script(PUBLISH)
        self._heartbeat = redis.register_script(HEARTBEAT)
        self._members = redis.register_script(MEMBERS)

    async def acquire(self, node_id: str, ttl_ms: int, floor: int) -> tuple[bool, bytes]:
        """(True, our new lock value) or (False, the holder's value)."""
        won, value = await self._acquire(
            keys=[self._keys.lock, self._keys.fence], args=[node_id, ttl_ms, floor]
        )
        return bool(won), bytes(value)

    async def renew(self, value: str, ttl_ms: int) -> bool:
        """Whether the lock still held `value` (and now lives `ttl_ms` more)."""
        return bool(await self._renew(keys=[self._keys.lock], args=[value, ttl_ms]))

    async def release(self, value: str) -> bool:
        """Whether the lock held `value` and is now free."""
        return bool(await self._release(keys=[self._keys.lock], args=[value]))

    async def publish(
        self,
        value: str,
        messages: list[tuple[str, bytes]],
        last: list[tuple[str, bytes]],
        status: bytes | None,
    ) -> int:
        """Publish bus batches fenced by `value`: the count, or -1 when not the leader."""
        args: list[Any] = [value, len(messages)]
        for channel, message in messages:
            args += (channel, message)
        args.append(len(last))
        for symbol, record in last:
            args += (symbol, record)
        args += (status or b"", self._keys.control)
        keys = [self._keys.lock, self._keys.last, self._keys.status]
        return int(await self._publish(keys=keys, args=args))

    async def heartbeat(self, node_id: str, ttl_ms: int, description: str) -> int:
        """Refresh this node's membership; returns how many nodes are live."""
        keys = [self._keys.members, self._keys.node(node_id), self._keys.interest(node_id)]
        return int(await self._heartbeat(keys=keys, args=[node_id, ttl_ms, description]))

    async def members(self) -> list[str]:
        """The live nodes (expired ones are removed)."""
        names = await self._members(keys=[self._keys.members])
        return [bytes(n).decode() for n in names]
