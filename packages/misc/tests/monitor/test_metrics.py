"""The Prometheus endpoint serves the monitor's gauges over real loopback HTTP."""

from __future__ import annotations

import urllib.request

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rsdev_misc.monitor import MonitorLoop, MonitorMetrics, MonitorSettings, serve_metrics

pytestmark = pytest.mark.anyio


def scrape(port: int) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, s.labels.get("result", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("tool") == "monitor-test"
    }


async def test_metrics_endpoint_serves_gauges(clock, scripted) -> None:
    """After three failures the endpoint shows DOWN, the counts and the downtime."""
    metrics = MonitorMetrics("monitor-test", "svc.test:1")
    server = serve_metrics(metrics, 0)
    try:
        probe = scripted("ok", "fail", "fail", "fail")
        loop = MonitorLoop(probe, MonitorSettings(), clock=clock, metrics=metrics)
        for _ in range(4):
            await loop.step()
            clock.advance(30)
        got = await anyio.to_thread.run_sync(scrape, server.port)
    finally:
        server.close()
    assert got[("rsdev_monitor_up", "")] == 0.0
    assert got[("rsdev_monitor_state", "")] == 2.0
    assert got[("rsdev_monitor_consecutive_failures", "")] == 3.0
    assert got[("rsdev_monitor_latency_seconds", "")] == 0.005
    assert got[("rsdev_monitor_probes_total", "ok")] == 1.0
    assert got[("rsdev_monitor_probes_total", "failed")] == 3.0
    assert got[("rsdev_monitor_probes_total", "warning")] == 0.0
    assert got[("rsdev_monitor_downtime_seconds_total", "")] == 60.0  # from the first failure
    assert got[("rsdev_monitor_outages", "")] == 0.0
