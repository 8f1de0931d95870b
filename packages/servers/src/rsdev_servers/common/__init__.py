"""What both gateways (restream, server-yahoo) share: settings, security, limits, sessions,
and the process lifecycle. Gateway-agnostic: nothing here knows a wire protocol.

| module | owns |
|---|---|
| `settings` | option tables resolved flag > environment > config file > default; exit codes |
| `options` | the option rows both gateways share, their load step and validation |
| `parsers` | text → value converters (sizes like `64MiB`, seconds, ports, URLs, origins) |
| `security` | bind rules, the auth token, the browser Origin check (`AccessPolicy`) |
| `ratelimit` | per-client `TokenBucket` and `ErrorBudget` (sans-I/O) |
| `sessions` | `SessionHub`: WebSocket clients on top of the dispatcher, the handshake gate |
| `http` | `GatewayHttp`: 405, the token's 401, `/health`, `/metrics` |
| `lifecycle` | signals, bounded shutdown, listening errors, `serve_until_stopped` |
| `serving` | `serve_gateway`: listen, run the upstream, serve, stop in order |
| `lazy` | `lazy_exports`: a package's names imported on first use |
| `upstream` | `build_manager`: stream client + REST poller (+ CNN poller) + upstream manager |

Names are imported on first use, so that a command line that fails its settings check
exits before the engine (and its dependencies) are even loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rsdev_servers.common.lazy import lazy_exports

if TYPE_CHECKING:
    from rsdev_servers.common.http import GatewayHttp, HealthAndMetrics, denial_response
    from rsdev_servers.common.lazy import lazy_exports
    from rsdev_servers.common.lifecycle import (
        DEFAULT_GRACE,
        BindError,
        Shutdown,
        describe_bind_error,
        open_server,
        run_async,
        serve_until_stopped,
    )
    from rsdev_servers.common.options import (
        SHARED_OPTIONS,
        check_gateway_settings,
        load_gateway_options,
        shared_option,
    )
    from rsdev_servers.common.parsers import (
        parse_bytes,
        parse_count,
        parse_origin,
        parse_port,
        parse_positive_seconds,
        parse_seconds,
        parse_url,
    )
    from rsdev_servers.common.ratelimit import ErrorBudget, TokenBucket
    from rsdev_servers.common.security import (
        MIN_TOKEN_LENGTH,
        AccessPolicy,
        Denial,
        base_url,
        check_bind,
        is_loopback_host,
        own_origins,
        shown_host,
    )
    from rsdev_servers.common.serving import CLOSE_GOING_AWAY, serve_gateway
    from rsdev_servers.common.sessions import (
        CLOSE_FULL,
        CLOSE_POLICY,
        ClientLimits,
        ClientSession,
        SessionHandler,
        SessionHub,
        SessionOptions,
        parse_session_query,
    )
    from rsdev_servers.common.settings import (
        EXIT_BIND,
        EXIT_CONFIG,
        EXIT_ERROR,
        EXIT_OK,
        GatewayArgumentParser,
        Option,
        Resolved,
        SettingsError,
        add_options,
        load_config_section,
        resolve_options,
    )
    from rsdev_servers.common.upstream import (
        UpstreamPlan,
        UpstreamSources,
        build_manager,
        build_sources,
        is_loopback_url,
    )

_WHERE = {
    "http": ("GatewayHttp", "HealthAndMetrics", "denial_response"),
    "lazy": ("lazy_exports",),
    "options": (
        "SHARED_OPTIONS",
        "check_gateway_settings",
        "load_gateway_options",
        "shared_option",
    ),
    "lifecycle": (
        "DEFAULT_GRACE",
        "BindError",
        "Shutdown",
        "describe_bind_error",
        "open_server",
        "run_async",
        "serve_until_stopped",
    ),
    "parsers": (
        "parse_bytes",
        "parse_count",
        "parse_origin",
        "parse_port",
        "parse_positive_seconds",
        "parse_seconds",
        "parse_url",
    ),
    "ratelimit": ("ErrorBudget", "TokenBucket"),
    "security": (
        "MIN_TOKEN_LENGTH",
        "AccessPolicy",
        "Denial",
        "check_bind",
        "base_url",
        "is_loopback_host",
        "own_origins",
        "shown_host",
    ),
    "serving": ("CLOSE_GOING_AWAY", "serve_gateway"),
    "sessions": (
        "CLOSE_FULL",
        "CLOSE_POLICY",
        "ClientLimits",
        "ClientSession",
        "SessionHandler",
        "SessionHub",
        "SessionOptions",
        "parse_session_query",
    ),
    "settings": (
        "EXIT_BIND",
        "EXIT_CONFIG",
        "EXIT_ERROR",
        "EXIT_OK",
        "GatewayArgumentParser",
        "Option",
        "Resolved",
        "SettingsError",
        "add_options",
        "build_manager",
        "build_sources",
        "load_config_section",
        "resolve_options",
    ),
    "upstream": (
        "UpstreamPlan",
        "UpstreamSources",
        "UpstreamSources",
        "build_manager",
        "build_sources",
        "is_loopback_url",
    ),
}

__all__ = [
    "CLOSE_FULL",
    "CLOSE_GOING_AWAY",
    "CLOSE_POLICY",
    "DEFAULT_GRACE",
    "EXIT_BIND",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_OK",
    "MIN_TOKEN_LENGTH",
    "SHARED_OPTIONS",
    "AccessPolicy",
    "BindError",
    "ClientLimits",
    "ClientSession",
    "Denial",
    "ErrorBudget",
    "GatewayArgumentParser",
    "GatewayHttp",
    "HealthAndMetrics",
    "Option",
    "Resolved",
    "SessionHandler",
    "SessionHub",
    "SessionOptions",
    "SettingsError",
    "Shutdown",
    "TokenBucket",
    "UpstreamPlan",
    "UpstreamSources",
    "add_options",
    "base_url",
    "build_manager",
    "build_sources",
    "check_bind",
    "check_gateway_settings",
    "denial_response",
    "describe_bind_error",
    "is_loopback_host",
    "is_loopback_url",
    "lazy_exports",
    "load_config_section",
    "load_gateway_options",
    "open_server",
    "own_origins",
    "parse_bytes",
    "parse_count",
    "parse_origin",
    "parse_port",
    "parse_positive_seconds",
    "parse_seconds",
    "parse_session_query",
    "parse_url",
    "resolve_options",
    "run_async",
    "serve_gateway",
    "serve_until_stopped",
    "shared_option",
    "shown_host",
]


__getattr__ = lazy_exports(__name__, _WHERE)
