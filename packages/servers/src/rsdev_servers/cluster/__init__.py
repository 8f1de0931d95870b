"""Cluster mode: several restream nodes behind one upstream connection, through Redis
(docs/scaling.md).

| module | owns |
|---|---|
| `naming` | Redis key and channel names; the bus shard of a symbol |
| `settings` | `ClusterSettings` and every interval derived from the TTL |
| `lease` | the leader's lease and the followers' token gate (sans-I/O) |
| `codec` | the bus and control wire formats (sans-I/O) |
| `interest` | what to tell Redis and the upstream about interest (sans-I/O) |
| `scripts` | the Lua scripts: acquire, renew, release, fenced publish, membership |
| `publisher` | the leader's batched, fenced bus publisher |
| `leader` | the election and the leader's term (the upstream manager of the union) |
| `node` | `ClusterUpstream`: a node as its gateway sees the upstream |
| `metrics` | the node's Prometheus metrics |
| `connection`, `timing` | the redis-py client; waits on an injected clock |

Names are imported on first use (redis-py is slow to import), so restream without
`--cluster` never loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rsdev_servers.cluster.codec import RelayedQuote
    from rsdev_servers.cluster.leader import LeaderManager, LeaderManagerFactory, Role
    from rsdev_servers.cluster.lease import LeadershipLost, Lease, TokenGate
    from rsdev_servers.cluster.metrics import register_cluster_metrics
    from rsdev_servers.cluster.naming import ClusterKeys, check_cluster_name
    from rsdev_servers.cluster.node import (
        ClusterHealth,
        ClusterStats,
        ClusterUpstream,
        GatewayCallbacks,
    )
    from rsdev_servers.cluster.settings import ClusterSettings

_WHERE = {
    "codec": ("RelayedQuote",),
    "leader": ("LeaderManager", "LeaderManagerFactory", "Role"),
    "lease": ("LeadershipLost", "Lease", "TokenGate"),
    "metrics": ("register_cluster_metrics",),
    "naming": ("ClusterKeys", "check_cluster_name"),
    "node": ("ClusterHealth", "ClusterStats", "ClusterUpstream", "GatewayCallbacks"),
    "settings": ("ClusterSettings",),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "ClusterHealth",
    "ClusterKeys",
    "ClusterSettings",
    "ClusterStats",
    "ClusterUpstream",
    "GatewayCallbacks",
    "LeaderManager",
    "LeaderManagerFactory",
    "LeadershipLost",
    "Lease",
    "RelayedQuote",
    "Role",
    "TokenGate",
    "check_cluster_name",
    "register_cluster_metrics",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
