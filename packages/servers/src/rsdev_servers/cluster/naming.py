"""Redis key and channel names of one cluster, and which bus shard carries a symbol.

Every name starts with the cluster name, so several clusters share one Redis. The control
keys carry the hash tag `{name}`: on a Redis Cluster they sit in one slot, so one script
may touch them together. The bus channels carry no tag, so sharded pub/sub spreads them
over the Cluster's shards.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_CLUSTER_NAME", "DEFAULT_SHARDS", "ClusterKeys", "check_cluster_name"]

DEFAULT_CLUSTER_NAME: Final = "rsdev"
DEFAULT_SHARDS: Final = 16
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def check_cluster_name(text: str) -> str:
    """A cluster name: 1–64 of `A–Z a–z 0–9 _ . -` (it prefixes every key)."""
    name = text.strip()
    if not _NAME.fullmatch(name):
        raise ValueError("use 1 to 64 letters, digits, '_', '.' or '-'")
    return name


@dataclass(frozen=True, slots=True)
class ClusterKeys:
    """The names one cluster uses in Redis."""

    name: str = DEFAULT_CLUSTER_NAME
    shards: int = DEFAULT_SHARDS

    def __post_init__(self) -> None:
        check_cluster_name(self.name)
        if not 1 <= self.shards <= 4096:
            raise ValueError("shards must be between 1 and 4096")

    @property
    def _tag(self) -> str:
        return "{" + self.name + "}"

    @property
    def lock(self) -> str:
        """The leadership lock: `"<token> <node>"`, with a TTL."""
        return f"{self._tag}:leader"

    @property
    def fence(self) -> str:
        """The fencing counter, incremented on every acquisition."""
        return f"{self._tag}:fence"

    @property
    def members(self) -> str:
        """Sorted set of live nodes, scored by their expiry (Redis time, ms)."""
        return f"{self._tag}:members"

    @property
    def status(self) -> str:
        """The leader's last status message (as sent on the control channel)."""
        return f"{self._tag}:status"

    @property
    def leader_health(self) -> str:
        """The leader's upstream health (JSON), refreshed with its heartbeat."""
        return f"{self._tag}:leader-health"

    @property
    def last(self) -> str:
        """Hash: symbol → its last bus record (snapshots for nodes that join late)."""
        return f"{self._tag}:last"

    @property
    def control(self) -> str:
        """The control channel: elections, releases, interest changes, status."""
        return f"{self._tag}:ctl"

    def node(self, node_id: str) -> str:
        """A node's description (JSON), with a TTL."""
        return f"{self._tag}:node:{node_id}"

    def interest(self, node_id: str) -> str:
        """Set of the symbols a node's clients hold, with a TTL."""
        return f"{self._tag}:interest:{node_id}"

    def bus(self, shard: int) -> str:
        """The sharded pub/sub channel of one bus shard."""
        return f"{self.name}:bus:{shard}"

    def shard_of(self, symbol: str) -> int:
        """The bus shard of a symbol (stable across processes and machines)."""
        return zlib.crc32(symbol.encode()) % self.shards
