"""restream's settings: the option table, and the validated `RestreamSettings`.

Precedence per setting: command-line flag > `RESTREAM_*` environment variable > the
encrypted config file (`--config FILE`, its `restream` object or its top level) > default.
The Yahoo and CNN addresses below are only defaults; tests and demos always point every
upstream at a loopback simulator.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rsdev_servers.common.options import (
    UPSTREAM,
    YAHOO_REST_URL,
    YAHOO_STREAM_URL,
    GatewaySettings,
    gateway_parser,
    load_gateway_options,
    shared_option,
)
from rsdev_servers.common.parsers import parse_seconds, parse_url
from rsdev_servers.common.settings import (
    GatewayArgumentParser,
    Option,
    Resolved,
    SettingsError,
)

__all__ = [
    "DEFAULT_CNN_URL",
    "DEFAULT_PORT",
    "DEFAULT_UPSTREAM_REST",
    "DEFAULT_UPSTREAM_WS",
    "ENV_PREFIX",
    "OPTIONS",
    "RestreamSettings",
    "build_parser",
    "load_settings",
]

ENV_PREFIX: Final = "RESTREAM_"
DEFAULT_PORT: Final = 8765
DEFAULT_UPSTREAM_WS: Final = YAHOO_STREAM_URL
DEFAULT_UPSTREAM_REST: Final = YAHOO_REST_URL
DEFAULT_CNN_URL: Final = "https://production.dataviz.cnn.io"
_CNN_GRAPHDATA: Final = "/index/fearandgreed/graphdata"

_MiB: Final = 1024 * 1024
_UPSTREAM_URLS: Final = ("upstream_ws", "upstream_rest", "cnn_url")
_REC = "record and replay"
_CLU = "cluster (several nodes, one upstream connection, through Redis: docs/scaling.md)"

OPTIONS: Final[tuple[Option, ...]] = (
    Option(
        "config",
        "encrypted (or plain JSON) config file; its `restream` object is used "
        "if present, else its top level",
        metavar="FILE",
        parse=str,
        in_config=False,
    ),
    Option(
        "demo",
        "run on a built-in simulator of Yahoo and CNN (loopback, market always open); "
        "the upstream URL options cannot be combined with it",
        switch=True,
    ),
    shared_option("host"),
    shared_option("port", default=DEFAULT_PORT),
    shared_option("auth_token"),
    shared_option("allow_origin"),
    shared_option("upstream_ws", default=DEFAULT_UPSTREAM_WS),
    shared_option("upstream_rest", default=DEFAULT_UPSTREAM_REST),
    Option(
        "cnn_url",
        "CNN Fear & Greed base URL (or its full graphdata URL)",
        default=DEFAULT_CNN_URL,
        parse=parse_url("http", "https"),
        metavar="URL",
        group=UPSTREAM,
    ),
    shared_option("linger"),
    shared_option("inactivity_timeout"),
    shared_option("grace"),
    shared_option("hysteresis"),
    shared_option("poll_interval"),
    shared_option("memory_budget"),
    shared_option("max_client_buffer"),
    shared_option("max_clients"),
    shared_option("max_symbols_per_client"),
    shared_option("max_upstream_symbols"),
    shared_option(
        "max_ops_per_second",
        help="requests per second one client may send (burst: twice that); more are "
        "answered rate_limited",
    ),
    shared_option("max_frame_bytes"),
    Option(
        "record",
        "append every upstream frame, with its receive time, to FILE (gzip'd JSON lines; "
        "appending across runs is fine)",
        metavar="FILE",
        group=_REC,
    ),
    Option(
        "replay",
        "serve a recording made with --record as the upstream (loopback, market always "
        "open); cannot be combined with --demo or the upstream URL options",
        metavar="FILE",
        group=_REC,
    ),
    Option(
        "speed",
        "replay speed: 1 = the recorded pace, 10 = ten times faster, 0 = as fast as possible",
        default=1.0,
        parse=lambda t: _speed(t),
        metavar="X",
        group=_REC,
    ),
    Option(
        "cluster",
        "join the restream cluster on this Redis (redis:// or rediss://): one node, the "
        "leader, holds the upstream for every node's clients; the URL may hold a password: "
        "prefer the environment variable or the config file",
        parse=parse_url("redis", "rediss"),
        secret=True,
        metavar="URL",
        group=_CLU,
    ),
    Option(
        "cluster_name",
        "the cluster's name (prefixes its Redis keys; several clusters may share a Redis)",
        default="rsdev",
        parse=lambda t: _cluster_name(t),
        metavar="NAME",
        group=_CLU,
    ),
    Option(
        "cluster_ttl",
        "leadership lease in seconds: a dead leader is replaced within about TTL + 1 s; "
        "the leader renews every TTL/3 and stops its upstream after 2/3 TTL without Redis",
        default=5.0,
        parse=lambda t: _cluster_ttl(parse_seconds(t)),
        metavar="SECONDS",
        group=_CLU,
    ),
)


def _cluster_name(text: str) -> str:
    name = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError("use 1 to 64 letters, digits, '_', '.' or '-'")
    return name


def _cluster_ttl(value: float) -> float:
    if value < 0.1:
        raise ValueError("must be at least 0.1 s")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError("must be a finite number >= 0")
    return value


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RestreamSettings(GatewaySettings):
    """Everything restream needs to start, validated."""

    port: int = DEFAULT_PORT
    cnn_url: str = DEFAULT_CNN_URL
    record: str | None = None
    replay: str | None = None
    speed: float = 1.0
    cluster: str | None = None
    cluster_name: str = "rsdev"
    cluster_ttl: float = 5.0

    @property
    def cnn_base_url(self) -> str:
        """The CNN base URL (a full graphdata URL is cut back to its base)."""
        url = self.cnn_url.rstrip("/")
        return url.removesuffix(_CNN_GRAPHDATA) if url.endswith(_CNN_GRAPHDATA) else url


def build_parser() -> GatewayArgumentParser:
    """The `restream` command line."""
    return gateway_parser(
        "restream",
        (
            "Hold one upstream market-data connection (Yahoo streaming, REST polling as "
            "fallback, CNN Fear & Greed) and fan quotes out to local clients over WebSocket "
            "(ws://HOST:PORT/ws) with microsecond timestamps. HTTP on the same port: /health, "
            "/metrics, /snapshot. Every option can also come from RESTREAM_<OPTION> or the "
            "config file (flag > environment > config file > default)."
        ),
        OPTIONS,
        env_prefix=ENV_PREFIX,
        docs="Protocol: docs/protocol.md.",
    )


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[RestreamSettings, argparse.Namespace, Resolved]:
    """Parse the command line, read the environment and config file, validate.

    Raises `SettingsError` (one line) for any bad value; argparse usage errors exit 2.
    """
    values, args, resolved = load_gateway_options(
        build_parser(),
        OPTIONS,
        env_prefix=ENV_PREFIX,
        config_section="restream",
        upstream_urls=_UPSTREAM_URLS,
        argv=argv,
        environ=environ,
    )
    values["record"] = values["record"] or None
    values["cluster"] = values["cluster"] or None
    values["replay"] = values["replay"] or None
    if values["replay"]:
        given = [n for n in _UPSTREAM_URLS if resolved.sources[n] != "default"]
        if values["demo"]:
            given.insert(0, "demo")
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise SettingsError(f"--replay serves the recording as the upstream; drop {flag}")
    elif resolved.sources["speed"] != "default":
        raise SettingsError("--speed applies only to --replay")
    return RestreamSettings(**values), args, resolved
