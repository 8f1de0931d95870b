"""Prometheus metrics of server-yahoo, on a private `CollectorRegistry`.

Nothing is counted on the hot path for metrics' sake: the dispatcher, memory guard,
session hub, upstream manager, fan-out and control handler keep plain integers, and
`YahooCollector` reads them when `/metrics` is scraped. Names start with `server_yahoo_`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lib_common.core import DispatcherStats, GuardStats
from lib_common.core.upstream_manager import UpstreamStats
from rsdev_servers.server_yahoo.fanout import FanoutStats

__all__ = ["CONTENT_TYPE_LATEST", "GatewaySnapshot", "YahooMetrics"]

_MODES = ("streaming", "polling", "idle")
_P = "server_yahoo_"


@dataclass(frozen=True, slots=True)
class GatewaySnapshot:
    """Every counter at scrape time."""

    dispatcher: DispatcherStats
    guard: GuardStats
    upstream: UpstreamStats
    fanout: FanoutStats
    clients_by_format: Mapping[str, int]
    control_messages: Mapping[str, int]
    invalid_control: Mapping[str, int]
    ignored_symbols: Mapping[str, int]
    resubscribed_symbols: int
    connections_total: int
    refused: Mapping[str, int]
    client_errors: Mapping[str, int]
    mode: str
    uptime: float


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(_P + name, doc, value=value)


def _labelled(
    family: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    doc: str,
    label: str,
    values: Mapping[str, int] | Mapping[str, float],
) -> Metric:
    metric = family(_P + name, doc, labels=[label])
    for key, value in sorted(values.items()):
        metric.add_metric([key], value)
    return metric


class YahooCollector(Collector):
    """Reads a `GatewaySnapshot` at each scrape."""

    def __init__(self, snapshot: Callable[[], GatewaySnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot()
        d, up, fan = s.dispatcher, s.upstream, s.fanout
        yield _counter("deliveries", "Frames queued to clients (one per client per message).",
                       d.deliveries)  # fmt: skip
        yield _counter("frames_written", "Frames handed to client transports.", d.frames_written)
        yield _counter("bytes_written", "Bytes handed to client transports.", d.bytes_written)
        yield _counter("writes", "Transport writes (at most one per client per loop tick).",
                       d.writes)  # fmt: skip
        yield _counter("dropped_frames", "Pending frames dropped (client gone or evicted).",
                       d.dropped_frames)  # fmt: skip
        yield _labelled(CounterMetricFamily, "frames_built",
                        "Quote frames built (at most one per format per message).", "format",
                        fan.frames_built)  # fmt: skip
        yield _counter("snapshots", "Last-value frames sent on subscribe.", fan.snapshots)
        yield _labelled(CounterMetricFamily, "quotes_forwarded",
                        "Quotes fanned out, by source (stream: upstream bytes as received; "
                        "poll: PricingData synthesised from REST).", "source",
                        {"stream": fan.stream_quotes, "poll": fan.poll_quotes})  # fmt: skip
        yield _labelled(CounterMetricFamily, "upstream_quotes_in",
                        "Quotes received from upstream, by source.", "source",
                        up.quotes_in)  # fmt: skip
        yield _labelled(CounterMetricFamily, "upstream_quotes_dropped",
                        "Upstream quotes not forwarded, by reason.", "reason",
                        up.quotes_dropped)  # fmt: skip
        yield _counter("upstream_subscribes", "Symbols subscribed upstream.",
                       up.upstream_subscribes)  # fmt: skip
        yield _counter("upstream_unsubscribes", "Symbols unsubscribed upstream.",
                       up.upstream_unsubscribes)  # fmt: skip
        yield _counter("poll_rounds", "REST polling rounds.", up.poll_rounds)
        yield _labelled(CounterMetricFamily, "mode_transitions",
                        "Upstream mode transitions, by old->new.", "transition",
                        up.transitions)  # fmt: skip
        mode = GaugeMetricFamily(_P + "mode", "Upstream mode (1 for the current one).",
                                 labels=["mode"])  # fmt: skip
        for name in _MODES:
            mode.add_metric([name], 1.0 if name == s.mode else 0.0)
        yield mode
        symbols = GaugeMetricFamily(_P + "upstream_symbols", "Symbols followed upstream.",
                                    labels=["state"])  # fmt: skip
        symbols.add_metric(["active"], up.registry.active_symbols)
        symbols.add_metric(["lingering"], up.registry.lingering_symbols)
        yield symbols
        yield _labelled(GaugeMetricFamily, "clients", "Connected WebSocket clients, by format.",
                        "format", s.clients_by_format)  # fmt: skip
        yield _counter("connections", "WebSocket clients accepted since start.",
                       s.connections_total)  # fmt: skip
        yield _labelled(CounterMetricFamily, "refused_connections",
                        "WebSocket handshakes refused.", "reason", s.refused)  # fmt: skip
        yield _labelled(CounterMetricFamily, "control_messages",
                        "Control messages received from clients, by kind.", "kind",
                        s.control_messages)  # fmt: skip
        yield _labelled(CounterMetricFamily, "invalid_control_messages",
                        "Malformed control messages (ignored, no reply), by problem.", "kind",
                        s.invalid_control)  # fmt: skip
        yield _labelled(CounterMetricFamily, "ignored_symbols",
                        "Symbols dropped silently (as Yahoo does), by reason.", "reason",
                        s.ignored_symbols)  # fmt: skip
        yield _counter("resubscribed_symbols",
                       "Symbols re-sent by clients that already held them (no effect).",
                       s.resubscribed_symbols)  # fmt: skip
        yield _labelled(CounterMetricFamily, "client_errors",
                        "Client misbehaviour charged to error budgets, by code.", "code",
                        s.client_errors)  # fmt: skip
        yield _labelled(CounterMetricFamily, "evictions", "Clients dropped by the memory guard.",
                        "reason", s.guard.evictions)  # fmt: skip
        yield GaugeMetricFamily(_P + "guarded_bytes",
                                "Bytes buffered for all clients (the memory guard's total).",
                                value=s.guard.guarded_bytes)  # fmt: skip
        yield GaugeMetricFamily(_P + "memory_budget_bytes", "The memory guard's budget.",
                                value=s.guard.budget)  # fmt: skip
        yield GaugeMetricFamily(_P + "uptime_seconds", "Seconds since start.", value=s.uptime)


class YahooMetrics:
    """All server-yahoo metrics; `render()` is the /metrics body."""

    def __init__(self, snapshot: Callable[[], GatewaySnapshot]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(YahooCollector(snapshot))

    def render(self) -> bytes:
        return generate_latest(self.registry)
