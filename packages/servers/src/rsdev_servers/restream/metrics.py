"""Prometheus metrics of restream, on its own `CollectorRegistry` (never the global one).

Cheap by construction: the fan-out counters (deliveries, encodes, writes, evictions…) are
kept as plain integers by the dispatcher, memory guard and session hub, and only read
when `/metrics` is scraped (`GatewayCollector`). What is observed on the hot path is per
*message*, never per delivery: one observation for each of the two latencies (upstream →
library in, library in → out) in lock-free loop histograms (`common.loop_metrics`); the
quotes-in counter is the first histogram's count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from lib_common.core import DispatcherStats, GuardStats
from rsdev_servers.common.loop_metrics import LoopHistogram, LoopHistogramFamily

__all__ = ["CONTENT_TYPE_LATEST", "GatewaySnapshot", "RestreamMetrics"]

_MODES = ("streaming", "polling", "idle")
# Seconds. Upstream → in spans network delay and clock skew (and REST data minutes old);
# in → out is our own decode-to-transport time, normally well under a millisecond.
_UPSTREAM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60)
_INTERNAL_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GatewaySnapshot:
    """The engine's counters at scrape time."""

    dispatcher: DispatcherStats
    guard: GuardStats
    clients_by_priority: Mapping[str, int]
    mode: str
    active_symbols: int
    lingering_symbols: int
    connections_total: int
    refused: Mapping[str, int]
    client_errors: Mapping[str, int]
    client_messages: int
    uptime: float


class GatewayCollector(Collector):
    """Reads a `GatewaySnapshot` at each scrape and exposes it."""

    def __init__(self, snapshot: Callable[[], GatewaySnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        d = s.dispatcher
        for name, doc, value in (
            ("restream_deliveries", "Frames queued to clients (one per client per message).",
             d.deliveries),
            ("restream_encodes", "Messages encoded (once each, whatever the recipients).",
             d.encodes),
            ("restream_frames_written", "Frames handed to client transports.", d.frames_written),
            ("restream_bytes_written", "Bytes handed to client transports.", d.bytes_written),
            ("restream_writes", "Transport writes (at most one per client per loop tick).",
             d.writes),
            ("restream_conflated", "Pending frames replaced by a newer one (conflating clients).",
             d.conflated),
            ("restream_dropped_frames", "Pending frames dropped (client gone or evicted).",
             d.dropped_frames),
            ("restream_connections", "WebSocket clients accepted since start.",
             s.connections_total),
            ("restream_client_messages", "Messages received from clients.", s.client_messages),
        ):  # fmt: skip
            yield CounterMetricFamily(name, doc, value=value)
        evictions = CounterMetricFamily(
            "restream_evictions", "Clients dropped by the memory guard.", labels=["reason"]
        )
        for reason, count in sorted(s.guard.evictions.items()):
            evictions.add_metric([reason], count)
        yield evictions
        refused = CounterMetricFamily(
            "restream_refused_connections", "WebSocket handshakes refused.", labels=["reason"]
        )
        for reason in ("unauthorized", "forbidden_origin", "full"):
            refused.add_metric([reason], s.refused.get(reason, 0))
        yield refused
        errors = CounterMetricFamily(
            "restream_client_errors", "Error replies sent to clients, by code.", labels=["code"]
        )
        for code, count in sorted(s.client_errors.items()):
            errors.add_metric([code], count)
        yield errors
        clients = GaugeMetricFamily(
            "restream_clients", "Connected WebSocket clients.", labels=["priority"]
        )
        for priority, count in sorted(s.clients_by_priority.items()):
            clients.add_metric([priority], count)
        yield clients
        yield GaugeMetricFamily(
            "restream_guarded_bytes",
            "Bytes buffered for all clients (the memory guard's total).",
            value=s.guard.guarded_bytes,
        )
        yield GaugeMetricFamily(
            "restream_guarded_bytes_peak", "Highest guarded total seen.", value=s.guard.peak_bytes
        )
        yield GaugeMetricFamily(
            "restream_memory_budget_bytes", "The memory guard's budget.", value=s.guard.budget
        )
        mode = GaugeMetricFamily(
            "restream_mode", "Upstream mode (1 for the current one).", labels=["mode"]
        )
        for name in _MODES:
            mode.add_metric([name], 1.0 if name == s.mode else 0.0)
        yield mode
        symbols = GaugeMetricFamily(
            "restream_upstream_symbols", "Symbols followed upstream.", labels=["state"]
        )
        symbols.add_metric(["active"], s.active_symbols)
        symbols.add_metric(["lingering"], s.lingering_symbols)
        yield symbols
        yield GaugeMetricFamily("restream_uptime_seconds", "Seconds since start.", value=s.uptime)


class RestreamMetrics:
    """Every restream metric on one private registry; `render()` is the /metrics body."""

    def __init__(self, snapshot: Callable[[], GatewaySnapshot]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.indicators_in = Counter(
            "restream_indicators_in",
            "Indicator values received (Fear & Greed).",
            ["name"],
            registry=self.registry,
        )
        self.status_changes = Counter(
            "restream_status_changes",
            "Upstream mode changes broadcast to clients, by new mode.",
            ["mode"],
            registry=self.registry,
        )
        self.upstream_to_in = LoopHistogramFamily(
            "restream_latency_upstream_to_in_seconds",
            "ts_library_in - ts_upstream per quote (includes upstream clock skew).",
            _UPSTREAM_BUCKETS,
            labels=["source"],
        )
        self.in_to_out = LoopHistogramFamily(
            "restream_latency_in_to_out_seconds",
            "ts_library_out - ts_library_in per delivered quote (decode to transports).",
            _INTERNAL_BUCKETS,
        )
        self.registry.register(self.upstream_to_in)
        self.registry.register(self.in_to_out)
        self.registry.register(_QuotesInCollector(self.upstream_to_in))
        # Pre-bound children: no label lookup per quote.
        self._upstream_to_in = {s: self.upstream_to_in.labels(s) for s in ("stream", "poll")}
        self._in_to_out: LoopHistogram = self.in_to_out.labels()
        for mode in _MODES:
            self.status_changes.labels(mode)
        self.registry.register(GatewayCollector(snapshot))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def quote_in(self, source: str, ts_upstream: int, ts_library_in: int) -> None:
        """One quote arrived (called per message)."""
        histogram = self._upstream_to_in.get(source)
        if histogram is None:
            histogram = self._upstream_to_in[source] = self.upstream_to_in.labels(source)
        histogram.observe(max(0, ts_library_in - ts_upstream) / 1e6)

    def quote_out(self, ts_library_in: int, ts_library_out: int) -> None:
        """One quote was framed for its subscribers (called per message, not per client)."""
        self._in_to_out.observe(max(0, ts_library_out - ts_library_in) / 1e6)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _QuotesInCollector(Collector):
    """`restream_quotes_in_total{source}`: the count of the upstream-latency histogram,
    which observes every quote in exactly once."""

    def __init__(self, upstream_to_in: LoopHistogramFamily) -> None:
        self._histograms = upstream_to_in

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "restream_quotes_in", "Quotes received from upstream, by source.", labels=["source"]
        )
        for source in ("stream", "poll"):
            family.add_metric([source], self._histograms.labels(source).count)
        yield family
