"""Prometheus metrics of a cluster node, added to restream's own registry.

Read at scrape time from `ClusterUpstream.stats()` (plain counters), except the bus lag,
a histogram observed once per bus message (not per quote).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rsdev_servers.cluster.leader import Role
from rsdev_servers.cluster.node import ClusterUpstream
from rsdev_servers.common.loop_metrics import LoopHistogramFamily

__all__ = ["register_cluster_metrics"]

# Seconds from the leader's PUBLISH to this node reading it: loopback is ~0.1–1 ms.
_LAG_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2)


class ClusterCollector(Collector):
    """The node's cluster state at each scrape."""

    def __init__(self, node: ClusterUpstream) -> None:
        self._node = node

    def collect(self) -> Iterator[Metric]:
        s = self._node.stats()
        role = GaugeMetricFamily(
            "restream_cluster_role", "This node's role (1 for the current one).", labels=["role"]
        )
        for each in Role:
            role.add_metric([each.value], 1.0 if each is s.role else 0.0)
        yield role
        for name, doc, value in (
            ("restream_cluster_token", "Fencing token of the current leadership term.", s.token),
            ("restream_cluster_nodes", "Live nodes (as of this node's last heartbeat).", s.nodes),
            ("restream_cluster_redis_connected", "1 while the Redis session is up.",
             float(s.redis_connected)),
            ("restream_cluster_redis_rtt_seconds", "Round trip of the last heartbeat.",
             s.redis_rtt if s.redis_rtt is not None else float("nan")),
            ("restream_cluster_bus_lag_seconds_last", "Leader publish to this node, last batch.",
             s.bus_lag if s.bus_lag is not None else float("nan")),
            ("restream_cluster_publish_pending", "Records queued on the leader (0 elsewhere).",
             s.publish_pending),
        ):  # fmt: skip
            yield GaugeMetricFamily(name, doc, value=value)
        for name, doc, value in (
            ("restream_cluster_sessions", "Redis sessions opened.", s.sessions),
            ("restream_cluster_session_failures", "Redis sessions lost.", s.session_failures),
            ("restream_cluster_bus_batches", "Bus messages read (current term).", s.batches_in),
            ("restream_cluster_bus_records", "Records read from the bus.", s.records_in),
            ("restream_cluster_bus_filtered", "Records for symbols this node does not follow.",
             s.records_filtered),
            ("restream_cluster_stale_rejected", "Messages from an older term, dropped.",
             s.stale_rejected),
            ("restream_cluster_bad_messages", "Bus or control messages that did not parse.",
             s.bad_messages),
            ("restream_cluster_snapshots_fetched", "Last values fetched for new symbols.",
             s.snapshots_fetched),
            ("restream_cluster_terms", "Leadership terms this node won.", s.terms),
            ("restream_cluster_published_records", "Records this node published as leader.",
             s.published_records),
            ("restream_cluster_publish_calls", "Publish script calls (batches) as leader.",
             s.published_calls),
            ("restream_cluster_publish_dropped", "Records dropped by the leader (Redis too "
             "slow, or the term ended).", s.publish_dropped),
        ):  # fmt: skip
            yield CounterMetricFamily(name, doc, value=value)
        downs = CounterMetricFamily(
            "restream_cluster_step_downs", "Terms this node ended, by reason.", labels=["reason"]
        )
        for reason, count in sorted(s.step_downs.items()):
            downs.add_metric([reason], count)
        yield downs


def register_cluster_metrics(node: ClusterUpstream, registry: CollectorRegistry) -> None:
    """Expose `node` on `registry` (restream's `RestreamMetrics.registry`)."""
    registry.register(ClusterCollector(node))
    lag = LoopHistogramFamily(
        "restream_cluster_bus_lag_seconds",
        "ts receive - ts_bus per bus message (leader publish to this node's reader).",
        _LAG_BUCKETS,
    )
    registry.register(lag)
    node.on_bus_lag = lag.labels().observe
