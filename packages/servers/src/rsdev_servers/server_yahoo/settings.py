"""server-yahoo's settings: the option table and the validated `YahooGatewaySettings`.

Precedence per setting, as for restream (`rsdev_servers.common.settings`): command-line
flag > `SERVER_YAHOO_*` environment variable > the encrypted config file (`--config FILE`,
its `server_yahoo` object or its top level) > default. Yahoo's own addresses are only the
defaults; tests and demos point every upstream at a loopback simulator.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lib_common.logging import add_logging_arguments
from rsdev_servers.common.parsers import (
    parse_bytes,
    parse_count,
    parse_origin,
    parse_port,
    parse_seconds,
    parse_url,
)
from rsdev_servers.common.security import check_bind
from rsdev_servers.common.settings import (
    GatewayArgumentParser,
    Option,
    Resolved,
    SettingsError,
    add_options,
    load_config_section,
    resolve_options,
)

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
# Yahoo's own addresses (the same as the ingestors' defaults, spelled here so that
# `--help` does not import the engine).
DEFAULT_UPSTREAM_WS: Final = "wss://streamer.finance.yahoo.com/?version=2"
DEFAULT_UPSTREAM_REST: Final = "https://query1.finance.yahoo.com"
_MiB: Final = 1024 * 1024
_UPSTREAM_URLS: Final = ("upstream_ws", "upstream_rest")
_NET, _UP, _LIM = "listening and security", "upstream", "limits"


def _positive_seconds(text: str) -> float:
    value = parse_seconds(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


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
    Option(
        "host",
        "address to listen on; anything but loopback requires an auth token",
        default="127.0.0.1",
        metavar="HOST",
        group=_NET,
    ),
    Option(
        "port",
        "TCP port (0: any free port; the URLs printed on stdout tell which)",
        default=DEFAULT_PORT,
        parse=parse_port,
        metavar="PORT",
        group=_NET,
    ),
    Option(
        "auth_token",
        "shared secret required on WebSocket and HTTP (except /health), as "
        "`Authorization: Bearer TOKEN` or `?token=TOKEN` (Yahoo clients that only take a "
        "URL use the query form); at least 16 characters; prefer the environment variable "
        "(flags show in `ps`)",
        secret=True,
        metavar="TOKEN",
        group=_NET,
    ),
    Option(
        "allow_origin",
        "extra browser origin allowed to open WebSockets, e.g. http://dash.example:8080 "
        "(repeatable; env: comma-separated)",
        repeatable=True,
        parse=parse_origin,
        metavar="ORIGIN",
        group=_NET,
        default=(),
    ),
    Option(
        "upstream_ws",
        "Yahoo streaming WebSocket URL (either frame format is read; clients get "
        "whichever format they asked for)",
        default=DEFAULT_UPSTREAM_WS,
        parse=parse_url("ws", "wss"),
        metavar="URL",
        group=_UP,
    ),
    Option(
        "upstream_rest",
        "Yahoo REST base URL (the polling fallback)",
        default=DEFAULT_UPSTREAM_REST,
        parse=parse_url("http", "https"),
        metavar="URL",
        group=_UP,
    ),
    Option(
        "linger",
        "seconds a symbol nobody wants stays subscribed upstream (clients that leave and "
        "come back within it cause no upstream traffic)",
        default=30.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "inactivity_timeout",
        "seconds of upstream silence, while quotes are due, before the stream counts as "
        "stalled and is redialled (0: never)",
        default=30.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "grace",
        "seconds the stream may be down or stalled before switching to REST polling",
        default=5.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "hysteresis",
        "seconds the stream must be healthy again before polling stops",
        default=10.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "poll_interval",
        "seconds between REST polling rounds while the stream is down (429s slow it)",
        default=10.0,
        parse=_positive_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "reconnect_max_delay",
        "longest wait between upstream reconnect attempts (capped exponential backoff with jitter)",
        default=30.0,
        parse=_positive_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "upstream_heartbeat",
        "re-send the whole subscribe list upstream this often, as Yahoo's own clients do "
        "every 15 s (0: never)",
        default=15.0,
        parse=parse_seconds,
        metavar="SECONDS",
        group=_UP,
    ),
    Option(
        "memory_budget",
        "bytes buffered for all clients together before the slowest low-priority clients "
        "are dropped (suffixes: KiB, MiB, GiB, kB, MB, GB)",
        default=64 * _MiB,
        shown_default="64MiB",
        parse=parse_bytes,
        metavar="BYTES",
        group=_LIM,
    ),
    Option(
        "max_client_buffer",
        "bytes buffered for one client before it is dropped as a slow consumer (1008)",
        default=8 * _MiB,
        shown_default="8MiB",
        parse=parse_bytes,
        metavar="BYTES",
        group=_LIM,
    ),
    Option(
        "max_clients",
        "WebSocket clients at once; more are refused (close 1013)",
        default=5000,
        parse=parse_count(1),
        metavar="N",
        group=_LIM,
    ),
    Option(
        "max_symbols_per_client",
        "symbols one client may hold; more are ignored silently, as Yahoo truncates",
        default=200,
        parse=parse_count(1),
        metavar="N",
        group=_LIM,
    ),
    Option(
        "max_upstream_symbols",
        "symbols followed upstream at once, all clients together",
        default=1000,
        parse=parse_count(1),
        metavar="N",
        group=_LIM,
    ),
    Option(
        "max_ops_per_second",
        "control messages per second one client may send (burst: twice that); more are "
        "ignored and count as errors",
        default=20.0,
        parse=_positive_seconds,
        metavar="N",
        group=_LIM,
    ),
    Option(
        "max_errors",
        "malformed or over-rate messages one client may send within 10 s before it is "
        "closed (1008)",
        default=50,
        parse=parse_count(1),
        metavar="N",
        group=_LIM,
    ),
    Option(
        "max_frame_bytes",
        "largest message a client may send; larger closes it (1009)",
        default=64 * 1024,
        shown_default="64KiB",
        parse=parse_bytes,
        metavar="BYTES",
        group=_LIM,
    ),
)


@dataclass(frozen=True, slots=True)
class YahooGatewaySettings:
    """Everything server-yahoo needs to start, validated."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    auth_token: str | None = None
    allow_origin: tuple[str, ...] = ()
    demo: bool = False
    upstream_ws: str = DEFAULT_UPSTREAM_WS
    upstream_rest: str = DEFAULT_UPSTREAM_REST
    linger: float = 30.0
    inactivity_timeout: float = 30.0
    grace: float = 5.0
    hysteresis: float = 10.0
    poll_interval: float = 10.0
    reconnect_max_delay: float = 30.0
    upstream_heartbeat: float = 15.0
    memory_budget: int = 64 * _MiB
    max_client_buffer: int = 8 * _MiB
    max_clients: int = 5000
    max_symbols_per_client: int = 200
    max_upstream_symbols: int = 1000
    max_ops_per_second: float = 20.0
    max_errors: int = 50
    max_frame_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        check_bind(self.host, self.auth_token)
        if self.max_client_buffer > self.memory_budget:
            raise SettingsError("--max-client-buffer cannot exceed --memory-budget")

    def __repr__(self) -> str:  # never show the token
        token = "***" if self.auth_token else None
        return (
            f"YahooGatewaySettings(host={self.host!r}, port={self.port}, auth_token={token}, "
            f"demo={self.demo}, upstream_ws={self.upstream_ws!r}, …)"
        )


def build_parser() -> GatewayArgumentParser:
    """The `server-yahoo` command line."""
    parser = GatewayArgumentParser(
        prog="server-yahoo",
        description=(
            "A drop-in Yahoo Finance streaming endpoint: clients written for Yahoo's own "
            "streamer change only the URL (ws://HOST:PORT/?version=2 for the JSON envelope "
            "format, ws://HOST:PORT/ for the legacy bare-base64 format) and share one "
            "resilient upstream connection (REST polling while the stream is down). HTTP on "
            "the same port: /health, /metrics. Every option can also come from "
            f"{ENV_PREFIX}<OPTION> or the config file (flag > environment > config file > "
            "default)."
        ),
        epilog=(
            "Exit codes: 0 clean stop (SIGINT/SIGTERM), 1 run-time failure or forced "
            "shutdown, 2 bad option or config, 3 cannot listen (address in use). "
            "Quick start: server-yahoo --demo. Details: docs/server-yahoo.md."
        ),
    )
    add_options(parser, OPTIONS, env_prefix=ENV_PREFIX)
    add_logging_arguments(parser)
    return parser


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[YahooGatewaySettings, argparse.Namespace, Resolved]:
    """Parse the command line, read the environment and config file, validate.

    Raises `SettingsError` (one line) for any bad value; argparse usage errors exit 2.
    """
    env = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    config_path = args.config or env.get(ENV_PREFIX + "CONFIG")
    config = load_config_section(Path(config_path), CONFIG_SECTION, env) if config_path else None
    resolved = resolve_options(
        OPTIONS,
        args,
        env_prefix=ENV_PREFIX,
        environ=env,
        config=config,
        config_name=f"config file {config_path}",
    )
    values = dict(resolved.values)
    values.pop("config")
    values["demo"] = bool(values["demo"])
    values["auth_token"] = values["auth_token"] or None
    if values["demo"]:
        given = [n for n in _UPSTREAM_URLS if resolved.sources[n] != "default"]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise SettingsError(f"--demo runs its own simulator; do not also set {flag}")
    return YahooGatewaySettings(**values), args, resolved
