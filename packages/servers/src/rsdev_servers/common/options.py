"""The options both gateways have, described once, and the load steps they share.

A gateway's option table picks rows from here with `shared_option(name, **changes)`
(changes: a gateway-specific default or help text) and adds its own. `gateway_parser`
builds a gateway's command line (its options, logging, the exit codes). `load_gateway_options`
is the common part of every gateway's `load_settings`: parse the command line, find the
config file, resolve flag > environment > config file > default, refuse upstream URLs next
to `--demo`. `GatewaySettings` holds the values both gateways have and validates them
(`check_gateway_settings`); each gateway's settings class adds its own fields.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from rsdev_servers.common.parsers import (
    parse_bytes,
    parse_count,
    parse_origin,
    parse_port,
    parse_positive_seconds,
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

if TYPE_CHECKING:
    from lib_common.core.upstream_manager import ManagerSettings
    from rsdev_servers.common.sessions import ClientLimits

__all__ = [
    "LIMITS",
    "NET",
    "SHARED_OPTIONS",
    "UPSTREAM",
    "YAHOO_REST_URL",
    "YAHOO_STREAM_URL",
    "GatewaySettings",
    "check_gateway_settings",
    "load_gateway_options",
    "shared_option",
]

_MiB: Final = 1024 * 1024
# Yahoo's own addresses (the ingestors' defaults, spelled here so that `--help` does not
# import the engine). Only defaults: tests and demos point every upstream at a simulator.
YAHOO_STREAM_URL: Final = "wss://streamer.finance.yahoo.com/?version=2"
YAHOO_REST_URL: Final = "https://query1.finance.yahoo.com"
NET, UPSTREAM, LIMITS = "listening and security", "upstream", "limits"

SHARED_OPTIONS: Final[Mapping[str, Option]] = {
    option.name: option
    for option in (
        Option(
            "host",
            "address to listen on; anything but loopback requires an auth token",
            default="127.0.0.1",
            metavar="HOST",
            group=NET,
        ),
        Option(
            "port",
            "TCP port (0: any free port; the URL printed on stdout tells which)",
            parse=parse_port,
            metavar="PORT",
            group=NET,
        ),
        Option(
            "auth_token",
            "shared secret required on WebSocket and HTTP (except /health), as "
            "`Authorization: Bearer TOKEN` or `?token=TOKEN`; at least 16 characters; prefer "
            "the environment variable (flags show in `ps`)",
            secret=True,
            metavar="TOKEN",
            group=NET,
        ),
        Option(
            "allow_origin",
            "extra browser origin allowed to open WebSockets, e.g. http://dash.example:8080 "
            "(repeatable; env: comma-separated)",
            repeatable=True,
            parse=parse_origin,
            metavar="ORIGIN",
            group=NET,
            default=(),
        ),
        Option(
            "upstream_ws",
            "Yahoo streaming WebSocket URL",
            parse=parse_url("ws", "wss"),
            metavar="URL",
            group=UPSTREAM,
        ),
        Option(
            "upstream_rest",
            "Yahoo REST base URL (the polling fallback)",
            parse=parse_url("http", "https"),
            metavar="URL",
            group=UPSTREAM,
        ),
        Option(
            "linger",
            "seconds a symbol nobody wants stays subscribed upstream (a quick resubscribe "
            "costs nothing)",
            default=30.0,
            parse=parse_seconds,
            metavar="SECONDS",
            group=UPSTREAM,
        ),
        Option(
            "inactivity_timeout",
            "seconds of upstream silence, while quotes are due, before the stream counts as "
            "stalled and is redialled (0: never)",
            default=30.0,
            parse=parse_seconds,
            metavar="SECONDS",
            group=UPSTREAM,
        ),
        Option(
            "grace",
            "seconds the stream may be down or stalled before switching to REST polling",
            default=5.0,
            parse=parse_seconds,
            metavar="SECONDS",
            group=UPSTREAM,
        ),
        Option(
            "hysteresis",
            "seconds the stream must be healthy again before leaving polling",
            default=10.0,
            parse=parse_seconds,
            metavar="SECONDS",
            group=UPSTREAM,
        ),
        Option(
            "poll_interval",
            "seconds between REST polling rounds while the stream is down (Yahoo's data is "
            "cached for 10 s; the poller slows itself down on 429s)",
            default=10.0,
            parse=parse_positive_seconds,
            metavar="SECONDS",
            group=UPSTREAM,
        ),
        Option(
            "memory_budget",
            "bytes buffered for all clients together before the slowest low-priority clients "
            "are dropped (suffixes: KiB, MiB, GiB, kB, MB, GB)",
            default=64 * _MiB,
            shown_default="64MiB",
            parse=parse_bytes,
            metavar="BYTES",
            group=LIMITS,
        ),
        Option(
            "max_client_buffer",
            "bytes buffered for one client before it is dropped as a slow consumer (1008)",
            default=8 * _MiB,
            shown_default="8MiB",
            parse=parse_bytes,
            metavar="BYTES",
            group=LIMITS,
        ),
        Option(
            "max_clients",
            "WebSocket clients at once; more are refused (close 1013)",
            default=5000,
            parse=parse_count(1),
            metavar="N",
            group=LIMITS,
        ),
        Option(
            "max_symbols_per_client",
            "symbols one client may hold (and send in one request)",
            default=200,
            parse=parse_count(1),
            metavar="N",
            group=LIMITS,
        ),
        Option(
            "max_upstream_symbols",
            "symbols followed upstream at once, all clients together",
            default=1000,
            parse=parse_count(1),
            metavar="N",
            group=LIMITS,
        ),
        Option(
            "max_ops_per_second",
            "requests per second one client may send (burst: twice that)",
            default=20.0,
            parse=parse_positive_seconds,
            metavar="N",
            group=LIMITS,
        ),
        Option(
            "max_frame_bytes",
            "largest message a client may send; larger closes it (1009)",
            default=64 * 1024,
            shown_default="64KiB",
            parse=parse_bytes,
            metavar="BYTES",
            group=LIMITS,
        ),
    )
}


def shared_option(name: str, **changes: Any) -> Option:
    """The shared row `name`, with a gateway's `changes` (default, help, …)."""
    option = SHARED_OPTIONS[name]
    return replace(option, **changes) if changes else option


_EXIT_CODES: Final = (
    "Exit codes: 0 clean stop (SIGINT/SIGTERM), 1 run-time failure or forced "
    "shutdown, 2 bad option or config, 3 cannot listen (address in use)."
)


def gateway_parser(
    prog: str, description: str, options: Sequence[Option], *, env_prefix: str, docs: str
) -> GatewayArgumentParser:
    """A gateway's command line: its options, the logging options, and an epilog with the
    exit codes, the `--demo` quick start and `docs` (where to read more)."""
    from lib_common.logging import add_logging_arguments

    parser = GatewayArgumentParser(
        prog=prog,
        description=description,
        epilog=f"{_EXIT_CODES} Quick start: {prog} --demo. {docs}",
    )
    add_options(parser, options, env_prefix=env_prefix)
    add_logging_arguments(parser)
    return parser


def load_gateway_options(
    parser: argparse.ArgumentParser,
    options: Sequence[Option],
    *,
    env_prefix: str,
    config_section: str,
    upstream_urls: Iterable[str],
    argv: Sequence[str] | None,
    environ: Mapping[str, str] | None,
) -> tuple[dict[str, Any], argparse.Namespace, Resolved]:
    """Parse, read the environment and the config file, resolve every option.

    Returns the values (without `config`; `demo` a bool, an empty `auth_token` None), the
    parsed arguments and the resolution. `--demo` next to an explicit upstream URL option
    is a `SettingsError`.
    """
    env = os.environ if environ is None else environ
    args = parser.parse_args(argv)
    config_path = args.config or env.get(env_prefix + "CONFIG")
    config = load_config_section(Path(config_path), config_section, env) if config_path else None
    resolved = resolve_options(
        options,
        args,
        env_prefix=env_prefix,
        environ=env,
        config=config,
        config_name=f"config file {config_path}",
    )
    values = dict(resolved.values)
    values.pop("config")
    values["demo"] = bool(values["demo"])
    values["auth_token"] = values["auth_token"] or None
    if values["demo"]:
        given = [n for n in upstream_urls if resolved.sources[n] != "default"]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise SettingsError(f"--demo runs its own simulator; do not also set {flag}")
    return values, args, resolved


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GatewaySettings:
    """The settings both gateways have, validated (the token never shows in `repr`)."""

    host: str = "127.0.0.1"
    port: int = 0
    auth_token: str | None = None
    allow_origin: tuple[str, ...] = ()
    demo: bool = False
    upstream_ws: str = YAHOO_STREAM_URL
    upstream_rest: str = YAHOO_REST_URL
    linger: float = 30.0
    inactivity_timeout: float = 30.0
    grace: float = 5.0
    hysteresis: float = 10.0
    poll_interval: float = 10.0
    memory_budget: int = 64 * _MiB
    max_client_buffer: int = 8 * _MiB
    max_clients: int = 5000
    max_symbols_per_client: int = 200
    max_upstream_symbols: int = 1000
    max_ops_per_second: float = 20.0
    max_frame_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        check_gateway_settings(self)

    def manager_settings(self, client_limit: int | None = None) -> ManagerSettings:
        """The upstream manager's knobs (`client_limit`: symbols per client, if not ours)."""
        # Imported here: `--help` and a bad command line must not load the engine.
        from lib_common.core.upstream_manager import ManagerSettings

        return ManagerSettings(
            linger=self.linger,
            client_limit=client_limit or self.max_symbols_per_client,
            global_limit=self.max_upstream_symbols,
            grace=self.grace,
            hysteresis=self.hysteresis,
        )

    def client_limits(self, **changes: Any) -> ClientLimits:
        """What one client may do (burst: twice the rate), with a gateway's `changes`."""
        from rsdev_servers.common.sessions import ClientLimits

        return ClientLimits(
            ops_per_second=self.max_ops_per_second,
            burst=max(1.0, 2 * self.max_ops_per_second),
            max_clients=self.max_clients,
            **changes,
        )

    def __repr__(self) -> str:  # never show the token
        token = "***" if self.auth_token else None
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port}, auth_token={token}, "
            f"demo={self.demo}, upstream_ws={self.upstream_ws!r}, …)"
        )


class _GatewayLimits(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def auth_token(self) -> str | None: ...

    @property
    def memory_budget(self) -> int: ...

    @property
    def max_client_buffer(self) -> int: ...


def check_gateway_settings(settings: _GatewayLimits) -> None:
    """A non-loopback bind needs a token; one client's buffer fits in the whole budget."""
    check_bind(settings.host, settings.auth_token)
    if settings.max_client_buffer > settings.memory_budget:
        raise SettingsError("--max-client-buffer cannot exceed --memory-budget")
