"""Prometheus metrics of one monitor, and the loopback HTTP endpoint that serves them.

Each monitor owns its own `CollectorRegistry` (no global state, so tests and several loops
in one process do not collide). Every series carries the labels ``tool`` and ``target`` (the
redacted target). Served by prometheus-client's threaded WSGI server on 127.0.0.1 only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from rsdev_misc.monitor.states import State

__all__ = ["STATE_VALUES", "MetricsServer", "MonitorMetrics", "serve_metrics"]

# The numeric encoding of `rsdev_monitor_state`.
STATE_VALUES = {State.UP: 0, State.PENDING: 1, State.DOWN: 2}


class MonitorMetrics:
    """The gauges and counters of one monitor."""

    def __init__(self, tool: str, target: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ("tool", "target")
        r = self.registry
        self._up = Gauge("rsdev_monitor_up", "1 unless the target is DOWN", labels, registry=r)
        self._state = Gauge(
            "rsdev_monitor_state", "State: 0 UP, 1 PENDING, 2 DOWN", labels, registry=r
        )
        self._latency = Gauge(
            "rsdev_monitor_latency_seconds", "Latency of the last good probe", labels, registry=r
        )
        self._failures = Gauge(
            "rsdev_monitor_consecutive_failures", "Failed probes in a row", labels, registry=r
        )
        self._downtime = Gauge(
            "rsdev_monitor_downtime_seconds_total",
            "Seconds DOWN since the monitor started (closed outages plus the open one)",
            labels,
            registry=r,
        )
        self._outages = Gauge(
            "rsdev_monitor_outages",
            "Outages (DOWN→UP) since the monitor started",
            labels,
            registry=r,
        )
        self._probes = Counter(
            "rsdev_monitor_probes",
            "Probes by result: ok, warning, failed",
            (*labels, "result"),
            registry=r,
        )
        self._labels = {"tool": tool, "target": target}
        for result in ("ok", "warning", "failed"):
            self._probes.labels(**self._labels, result=result)  # export zeros from the start
        self.set_state(State.UP, consecutive_failures=0)

    def set_state(self, state: State, *, consecutive_failures: int) -> None:
        self._up.labels(**self._labels).set(0 if state is State.DOWN else 1)
        self._state.labels(**self._labels).set(STATE_VALUES[state])
        self._failures.labels(**self._labels).set(consecutive_failures)

    def probed(self, result: str, latency_s: float | None) -> None:
        """Count one probe (`result` is ok, warning or failed)."""
        self._probes.labels(**self._labels, result=result).inc()
        if latency_s is not None and result != "failed":
            self._latency.labels(**self._labels).set(latency_s)

    def set_downtime(self, total_s: float, outages: int) -> None:
        self._downtime.labels(**self._labels).set(total_s)
        self._outages.labels(**self._labels).set(outages)


@dataclass
class MetricsServer:
    """A running metrics endpoint: ``http://127.0.0.1:<port>/metrics``."""

    port: int
    _server: WSGIServer
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(metrics: MonitorMetrics, port: int, addr: str = "127.0.0.1") -> MetricsServer:
    """Serve `metrics` over HTTP on `addr:port` (port 0 picks a free one). Raises OSError."""
    server, thread = start_http_server(port, addr=addr, registry=metrics.registry)
    return MetricsServer(server.server_port, server, thread)
