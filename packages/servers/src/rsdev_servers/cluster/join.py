"""`ClusterJoin`: how a restream gateway becomes a cluster node (`restream --cluster URL`).

The gateway takes an upstream factory; `ClusterJoin` is one. It builds the node's
`ClusterUpstream` from restream's settings, wired to the gateway's callbacks, with a
leader-manager factory that asks the gateway for a fresh `UpstreamManager` (same sources
and settings as a single restream; its clients are nodes, each allowed the whole upstream
limit). After the gateway exists, `attach` adds the cluster metrics to its registry; the
announced URL is passed on so other nodes can show it.
"""

from __future__ import annotations

from collections.abc import Callable

from lib_common.core.calendar import US_MARKETS, MarketCalendar
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.cnn import FearGreed
from lib_common.ingestors.yahoo.quote import Quote
from rsdev_servers.cluster.leader import LeaderManager
from rsdev_servers.cluster.metrics import register_cluster_metrics
from rsdev_servers.cluster.node import ClusterUpstream
from rsdev_servers.cluster.settings import ClusterSettings
from rsdev_servers.restream.gateway import RestreamGateway
from rsdev_servers.restream.settings import RestreamSettings

__all__ = ["ClusterJoin"]


class ClusterJoin:
    """The upstream factory of a restream cluster node."""

    def __init__(self, settings: RestreamSettings, *, calendar: MarketCalendar = US_MARKETS):
        if settings.cluster is None:
            raise ValueError("ClusterJoin needs settings.cluster (a Redis URL)")
        self._settings = settings
        self._calendar = calendar
        self.cluster = ClusterSettings(
            url=settings.cluster, name=settings.cluster_name, ttl=settings.cluster_ttl
        )
        self.node: ClusterUpstream | None = None

    def __call__(self, gateway: RestreamGateway) -> ClusterUpstream:
        settings = self._settings

        def leader_manager(
            *,
            on_quote: Callable[[Quote], None],
            on_status: Callable[[UpstreamStatus], None],
            on_indicator: Callable[[FearGreed], None],
        ) -> LeaderManager:
            return gateway.new_manager(
                on_quote=on_quote,
                on_status=on_status,
                on_indicator=on_indicator,
                client_limit=settings.max_upstream_symbols,
            )

        self.node = ClusterUpstream(
            self.cluster,
            gateway.callbacks,
            leader_manager,
            linger=settings.linger,
            client_limit=settings.max_symbols_per_client,
            global_limit=settings.max_upstream_symbols,
            calendar=self._calendar,
        )
        return self.node

    def attach(self, gateway: RestreamGateway) -> None:
        """Add the cluster metrics to the gateway's `/metrics`."""
        if self.node is not None:
            register_cluster_metrics(self.node, gateway.metrics.registry)

    def announced(self, url: str) -> None:
        """The gateway listens at `url` (shown to the other nodes)."""
        if self.node is not None:
            self.node.url = url
