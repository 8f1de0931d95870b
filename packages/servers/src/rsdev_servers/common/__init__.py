"""What both gateways (restream, server-yahoo) share: settings, security, limits, sessions,
and the process lifecycle. Gateway-agnostic: nothing here knows a wire protocol.

| module | owns |
|---|---|
| `settings` | option tables resolved flag > environment > config file > default; exit codes |
| `parsers` | text → value converters (sizes like `64MiB`, seconds, ports, URLs, origins) |
| `security` | bind rules, the auth token, the browser Origin check (`AccessPolicy`) |
| `ratelimit` | per-client `TokenBucket` and `ErrorBudget` (sans-I/O) |
| `sessions` | `SessionHub`: WebSocket clients on top of the dispatcher |
| `lifecycle` | signals, bounded shutdown, listening errors, `serve_until_stopped` |
| `upstream` | `build_manager`: stream client + REST poller (+ CNN poller) + upstream manager |

Names are imported on first use, so that a command line that fails its settings check
exits before the engine (and its dependencies) are even loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rsdev_servers.common.lifecycle import (
        DEFAULT_GRACE,
        BindError,
        Shutdown,
        describe_bind_error,
        open_server,
        run_async,
        serve_until_stopped,
    )
    from rsdev_servers.common.parsers import (
        parse_bytes,
        parse_count,
        parse_origin,
        parse_port,
        parse_seconds,
        parse_url,
    )
    from rsdev_servers.common.ratelimit import ErrorBudget, TokenBucket
    from rsdev_servers.common.security import (
        MIN_TOKEN_LENGTH,
        AccessPolicy,
        Denial,
        check_bind,
        is_loopback_host,
        own_origins,
    )
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
        "parse_seconds",
        "parse_url",
    ),
    "ratelimit": ("ErrorBudget", "TokenBucket"),
    "security": (
        "MIN_TOKEN_LENGTH",
        "AccessPolicy",
        "Denial",
        "check_bind",
        "is_loopback_host",
        "own_origins",
    ),
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
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "CLOSE_FULL",
    "CLOSE_POLICY",
    "DEFAULT_GRACE",
    "EXIT_BIND",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "EXIT_OK",
    "MIN_TOKEN_LENGTH",
    "AccessPolicy",
    "BindError",
    "ClientLimits",
    "ClientSession",
    "Denial",
    "ErrorBudget",
    "GatewayArgumentParser",
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
    "build_manager",
    "build_sources",
    "check_bind",
    "describe_bind_error",
    "is_loopback_host",
    "is_loopback_url",
    "load_config_section",
    "open_server",
    "own_origins",
    "parse_bytes",
    "parse_count",
    "parse_origin",
    "parse_port",
    "parse_seconds",
    "parse_session_query",
    "parse_url",
    "resolve_options",
    "run_async",
    "serve_until_stopped",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
