"""restream: the quote fan-out gateway (console script `restream`; docs/restream.md).

| module | owns |
|---|---|
| `protocol` | client → server requests, sans-I/O (`parse_request`) |
| `messages` | server → client messages besides quotes (acks, pong, errors, status, indicator) |
| `settings` | the option table and the validated `RestreamSettings` |
| `gateway` | `RestreamGateway`: upstream manager → dispatcher → sessions, and HTTP views |
| `http_api` | the HTTP routes on the WebSocket port (health, metrics, snapshot, dashboard) |
| `metrics` | Prometheus metrics on a private registry |
| `cli` | the console script (`main`) and `--demo` |

Names are imported on first use, so `restream --help` and a bad command line stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rsdev_servers.common.lazy import lazy_exports

if TYPE_CHECKING:
    from rsdev_servers.restream.cli import main
    from rsdev_servers.restream.gateway import RestreamGateway, Upstreams
    from rsdev_servers.restream.http_api import HttpApi
    from rsdev_servers.restream.metrics import RestreamMetrics
    from rsdev_servers.restream.protocol import (
        Ping,
        ProtocolError,
        Subscribe,
        Unsubscribe,
        parse_request,
    )
    from rsdev_servers.restream.settings import RestreamSettings, load_settings

_WHERE = {
    "cli": ("main",),
    "gateway": ("RestreamGateway", "Upstreams"),
    "http_api": ("HttpApi",),
    "metrics": ("RestreamMetrics",),
    "protocol": ("Ping", "ProtocolError", "Subscribe", "Unsubscribe", "parse_request"),
    "settings": ("RestreamSettings", "load_settings"),
}

__all__ = [
    "HttpApi",
    "Ping",
    "ProtocolError",
    "RestreamGateway",
    "RestreamMetrics",
    "RestreamSettings",
    "Subscribe",
    "Unsubscribe",
    "Upstreams",
    "load_settings",
    "main",
    "parse_request",
]


__getattr__ = lazy_exports(__name__, _WHERE)
