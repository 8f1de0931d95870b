"""What a cluster node needs to know: where Redis is, the cluster's name, the lease TTL —
and every interval derived from the TTL.

| interval | value | why |
|---|---|---|
| renew (leader) | ttl/3 | two chances to renew before giving up |
| give up (leader) | 2·ttl/3 after the last renew sent | stopped before the lock expires |
| retry (others) | min(ttl/4, 0.5 s) | takeover within ttl + retry after a leader dies |
| heartbeat | ttl/3 | membership lives ttl: two missed beats are tolerated |
| reconcile (leader) | ttl | re-read every node's interest (`N` messages are the fast path) |
| Redis command timeout | max(ttl, 2 s) | a hung Redis ends the session (the lease has its own) |
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import Final

from lib_common.tls import TLSPolicy
from rsdev_servers.cluster.naming import DEFAULT_CLUSTER_NAME, DEFAULT_SHARDS, ClusterKeys

__all__ = ["DEFAULT_TTL", "ClusterSettings", "default_node_id"]

DEFAULT_TTL: Final = 5.0


def default_node_id() -> str:
    """`<host>-<pid>-<random>`: unique per process, readable in logs and /health."""
    host = socket.gethostname().split(".")[0] or "node"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """One node's cluster configuration (the URL may hold a password: never log it)."""

    url: str
    name: str = DEFAULT_CLUSTER_NAME
    ttl: float = DEFAULT_TTL
    shards: int = DEFAULT_SHARDS
    node_id: str = field(default_factory=default_node_id)
    tls: TLSPolicy | None = None  # for rediss:// (None: the default verifying policy)
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    max_pending: int = 50_000  # records the leader buffers while Redis is slow
    max_batch: int = 2_000  # records per publish call

    def __post_init__(self) -> None:
        if not self.ttl >= 0.1:
            raise ValueError("the cluster TTL must be at least 0.1 s")
        if " " in self.node_id or not self.node_id:
            raise ValueError("a node id is non-empty and has no spaces")

    @property
    def keys(self) -> ClusterKeys:
        return ClusterKeys(self.name, self.shards)

    @property
    def ttl_ms(self) -> int:
        return max(1, round(self.ttl * 1000))

    @property
    def retry(self) -> float:
        return min(self.ttl / 4, 0.5)

    @property
    def heartbeat(self) -> float:
        return self.ttl / 3

    @property
    def reconcile(self) -> float:
        return self.ttl

    @property
    def command_timeout(self) -> float:
        return max(self.ttl, 2.0)

    def redacted_url(self) -> str:
        """The URL without its password, for logs."""
        head, sep, tail = self.url.partition("://")
        if "@" not in tail:
            return self.url
        userinfo, _, rest = tail.rpartition("@")
        user = userinfo.split(":", 1)[0]
        return f"{head}{sep}{user + ':' if user else ''}***@{rest}"
