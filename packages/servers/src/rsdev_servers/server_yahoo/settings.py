"""server-yahoo's settings: the option table and the validated `YahooGatewaySettings`.

Precedence per setting, as for restream (`rsdev_servers.common.settings`): command-line
flag > `SERVER_YAHOO_*` environment variable > the encrypted config file (`--config FILE`,
its `server_yahoo` object or its top level) > default. Yahoo's own addresses are only the
defaults; tests and demos point every upstream at a loopback simulator.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rsdev_servers.common.options import (
    LIMITS,
    UPSTREAM,
    YAHOO_REST_URL,
    YAHOO_STREAM_URL,
    GatewaySettings,
    gateway_parser,
    load_gateway_options,
    shared_option,
)
from rsdev_servers.common.parsers import parse_count, parse_positive_seconds, parse_seconds
from rsdev_servers.common.settings import GatewayArgumentParser, Option, Resolved

__all__ = [
    "CONFIG_SECTION",
    "DEFAULT_PORT",
    "DEFAULT_UPSTREAM_REST",
    "DEFAULT_UPSTREAM_WS",
    "ENV_PREFIX",
    "OPTIONS",
    "YahooGatewaySettings",
    "build_parser",
    "load_settings",
]

ENV_PREFIX: Final = "SERVER_YAHOO_"
CONFIG_SECTION: Final = "server_yahoo"
DEFAULT_PORT: Final = 8766
DEFAULT_UPSTREAM_WS: Final = YAHOO_STREAM_URL
DEFAULT_UPSTREAM_REST: Final = YAHOO_REST_URL
_MiB: Final = 1024 * 1024
_UPSTREAM_URLS: Final = ("upstream_ws", "upstream_rest")

OPTIONS: Final[tuple[Option, ...]] = (
    Option(
        "config",
        f"encrypted (or plain JSON) config file; its `{CONFIG_SECTION}` object is used if "
        "present, else its top level",
        metavar="FILE",
        in_config=False,
    ),
    Option(
        "demo",
        "run on a built-in simulator (loopback, always-open market) and print the client "
        "URLs; the upstream URL options are then not used",
        switch=True,
    ),
    shared_option("host"),
    shared_option("port", default=DEFAULT_PORT),
    shared_option(
        "auth_token",
        help="shared secret required on WebSocket and HTTP (except /health), as "
        "`Authorization: Bearer TOKEN` or `?token=TOKEN` (Yahoo clients that only take a "
        "URL use the query form); at least 16 characters; prefer the environment variable "
        "(flags show in `ps`)",
    ),
    shared_option("allow_origin"),
    shared_option(
        "upstream_ws",
        default=DEFAULT_UPSTREAM_WS,
        help="Yahoo streaming WebSocket URL (either frame format is read; clients get "
        "whichever format they asked for)",
    ),
    shared_option("upstream_rest", default=DEFAULT_UPSTREAM_REST),
    shared_option(
        "linger",
        help="seconds a symbol nobody wants stays subscribed upstream (clients that leave "
        "and come back within it cause no upstream traffic)",
    ),
    shared_option("inactivity_timeout"),
    shared_option("grace"),
    shared_option("hysteresis"),
    shared_option("poll_interval"),
    Option(
        "reconnect_max_delay",
        "longest wait between upstream reconnect attempts (capped exponential backoff with jitter)",
        default=30.0,
        parse=parse_positive_seconds,
        metavar="SECONDS",
        group=UPSTREAM,
    ),
    Option(
        "upstream_heartbeat",
        "re-send the whole subscribe list upstream this often, as Yahoo's own clients do "
        "every 15 s (0: never)",
        default=15.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=UPSTREAM,
    ),
    shared_option("memory_budget"),
    shared_option("max_client_buffer"),
    shared_option("max_clients"),
    shared_option(
        "max_symbols_per_client",
        help="symbols one client may hold; more are ignored silently, as Yahoo truncates",
    ),
    shared_option("max_upstream_symbols"),
    shared_option(
        "max_ops_per_second",
        help="control messages per second one client may send (burst: twice that); more "
        "are ignored and count as errors",
    ),
    Option(
        "max_errors",
        "malformed or over-rate messages one client may send within 10 s before it is "
        "closed (1008)",
        default=50,
        parse=parse_count(1),
        metavar="N",
        group=LIMITS,
    ),
    shared_option("max_frame_bytes"),
)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class YahooGatewaySettings(GatewaySettings):
    """Everything server-yahoo needs to start, validated."""

    port: int = DEFAULT_PORT
    reconnect_max_delay: float = 30.0
    upstream_heartbeat: float = 15.0
    max_errors: int = 50


def build_parser() -> GatewayArgumentParser:
    """The `server-yahoo` command line."""
    return gateway_parser(
        "server-yahoo",
        (
            "A drop-in Yahoo Finance streaming endpoint: clients written for Yahoo's own "
            "streamer change only the URL (ws://HOST:PORT/?version=2 for the JSON envelope "
            "format, ws://HOST:PORT/ for the legacy bare-base64 format) and share one "
            "resilient upstream connection (REST polling while the stream is down). HTTP on "
            "the same port: /health, /metrics. Every option can also come from "
            f"{ENV_PREFIX}<OPTION> or the config file (flag > environment > config file > "
            "default)."
        ),
        OPTIONS,
        env_prefix=ENV_PREFIX,
        docs="Details: docs/server-yahoo.md.",
    )


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[YahooGatewaySettings, argparse.Namespace, Resolved]:
    """Parse the command line, read the environment and config file, validate.

    Raises `SettingsError` (one line) for any bad value; argparse usage errors exit 2.
    """
    values, args, resolved = load_gateway_options(
        build_parser(),
        OPTIONS,
        env_prefix=ENV_PREFIX,
        config_section=CONFIG_SECTION,
        upstream_urls=_UPSTREAM_URLS,
        argv=argv,
        environ=environ,
    )
    return YahooGatewaySettings(**values), args, resolved
