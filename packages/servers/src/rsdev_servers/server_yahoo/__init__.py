"""server-yahoo: a Yahoo-protocol-compatible streaming endpoint on the shared engine
(console script `server-yahoo`; docs/server-yahoo.md).

| module | owns |
|---|---|
| `formats` | the two wire formats (`?version=2` envelope, legacy base64) and topic keys |
| `topics` | `FormatTopics`: which client gets which format of which symbol |
| `fanout` | `QuoteFanout`: a quote framed once per format, snapshots from the same frames |
| `handler` | `YahooSessionHandler`: Yahoo control messages → the upstream manager |
| `settings` | the option table and the validated `YahooGatewaySettings` |
| `gateway` | `YahooGateway`: everything wired, served on one port |
| `http_api` | `/health`, `/metrics`, the index page |
| `metrics` | Prometheus metrics on a private registry |
| `cli` | the console script (`main`) and `--demo` |

Names are imported on first use, so `server-yahoo --help` and a bad command line stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rsdev_servers.common.lazy import lazy_exports

if TYPE_CHECKING:
    from rsdev_servers.server_yahoo.cli import main
    from rsdev_servers.server_yahoo.fanout import FanoutStats, QuoteFanout
    from rsdev_servers.server_yahoo.formats import (
        FORMATS,
        WireFormat,
        format_for_query,
        topic,
        wrap_payload,
    )
    from rsdev_servers.server_yahoo.gateway import YahooGateway
    from rsdev_servers.server_yahoo.handler import (
        BAD_CONTROL,
        ControlCounters,
        SymbolDemand,
        YahooSessionHandler,
    )
    from rsdev_servers.server_yahoo.http_api import HttpApi
    from rsdev_servers.server_yahoo.metrics import YahooMetrics
    from rsdev_servers.server_yahoo.settings import (
        ENV_PREFIX,
        YahooGatewaySettings,
        build_parser,
        load_settings,
    )
    from rsdev_servers.server_yahoo.topics import FormatTopics

_WHERE = {
    "cli": ("main",),
    "fanout": ("FanoutStats", "QuoteFanout"),
    "formats": ("FORMATS", "WireFormat", "format_for_query", "topic", "wrap_payload"),
    "gateway": ("YahooGateway",),
    "handler": ("BAD_CONTROL", "ControlCounters", "SymbolDemand", "YahooSessionHandler"),
    "http_api": ("HttpApi",),
    "metrics": ("YahooMetrics",),
    "settings": ("ENV_PREFIX", "YahooGatewaySettings", "build_parser", "load_settings"),
    "topics": ("FormatTopics",),
}

__all__ = [
    "BAD_CONTROL",
    "ENV_PREFIX",
    "FORMATS",
    "ControlCounters",
    "FanoutStats",
    "FormatTopics",
    "HttpApi",
    "QuoteFanout",
    "SymbolDemand",
    "WireFormat",
    "YahooGateway",
    "YahooGatewaySettings",
    "YahooMetrics",
    "YahooSessionHandler",
    "build_parser",
    "format_for_query",
    "load_settings",
    "main",
    "topic",
    "wrap_payload",
]


__getattr__ = lazy_exports(__name__, _WHERE)
