"""`monitor-redis`: the command line, on the shared monitor CLI (rsdev_misc.monitor)."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Sequence

from rsdev_misc.monitor import UsageError, add_setting, build_parser, run_cli
from rsdev_misc.monitor_redis.heartbeat import RedisHeartbeat, ttl_for_interval
from rsdev_misc.monitor_redis.probe import RedisProbe
from rsdev_misc.monitor_redis.target import resolve_target

__all__ = ["TOOL", "build_redis_parser", "main", "make_probe"]

TOOL = "monitor-redis"
ENV_PREFIX = "RSDEV_MONITOR_REDIS"

_DESCRIPTION = """\
Watch a Redis server: connect (AUTH as an ACL user or with the default password), PING,
close, every --interval seconds; say when it goes DOWN and for how long it was down. The
reported latency is the PING round trip; the connect time is reported beside it. No client
retries: a server that accepts and never answers fails after --timeout, not after a minute."""

_EPILOG = """\
TLS: rediss:// URLs verify the certificate and host name against --ca-file (or the system
CA bundle). TLS options in the URL query are refused. --tls-insecure skips the check, loudly.

examples:
  REDIS_URL=redis://monitor@127.0.0.1:6379/0 REDIS_PASSWORD=… monitor-redis --once
  monitor-redis --url rediss://monitor@cache.example:6380/0 --ca-file ca.pem \\
      --heartbeat-key hb:monitor-redis:$(hostname) --interval 10"""


def build_redis_parser() -> argparse.ArgumentParser:
    """The parser: the shared monitor options plus the Redis ones."""
    parser = build_parser(TOOL, _DESCRIPTION, ENV_PREFIX, epilog=_EPILOG)
    group = parser.add_argument_group("redis")
    add_setting(
        parser, "--url", env="REDIS_URL", config_key="url", metavar="URL", group=group,
        help="redis://[user[:password]@]host:port/db, rediss://… (TLS) or unix:///path.sock "
        "(a password in it is never printed)",
    )  # fmt: skip
    add_setting(
        parser, "--username", env="REDIS_USERNAME", config_key="username", metavar="USER",
        group=group, help="ACL user, when not in the URL",
    )  # fmt: skip
    add_setting(
        parser, "--password", env="REDIS_PASSWORD", config_key="password", metavar="PASSWORD",
        group=group,
        help="password, when not in the URL (prefer the environment: flags show in `ps`)",
    )  # fmt: skip
    add_setting(
        parser, "--keep-connection", env=f"{ENV_PREFIX}_KEEP_CONNECTION",
        config_key="keep_connection", flag=True, group=group,
        help="reuse one connection between probes (reconnect after a failure) instead of "
        "a fresh connection per probe",
    )  # fmt: skip
    add_setting(
        parser, "--heartbeat-key", env=f"{ENV_PREFIX}_HEARTBEAT_KEY",
        config_key="heartbeat_key", metavar="KEY", group=group,
        help="also SET KEY to {ts, host, pid, latency_ms} (JSON) on each probe, expiring "
        "after 3 intervals (at least 10 s); e.g. hb:monitor-redis:<host>; off by default",
    )  # fmt: skip
    tls = parser.add_argument_group("tls")
    add_setting(
        parser, "--ca-file", env=f"{ENV_PREFIX}_CA_FILE", config_key="ca_file", metavar="FILE",
        group=tls, help="PEM file of the CA(s) to trust for rediss:// (default: system bundle)",
    )  # fmt: skip
    add_setting(
        parser, "--tls-insecure", env=f"{ENV_PREFIX}_TLS_INSECURE", config_key="tls_insecure",
        flag=True, group=tls,
        help="INSECURE: rediss:// without checking the certificate (a loud warning at start)",
    )  # fmt: skip
    return parser


def make_probe(args: argparse.Namespace) -> RedisProbe:
    """Build the probe from resolved settings; `UsageError` for anything unusable."""
    if not args.url:
        raise UsageError("no Redis URL: pass --url or set REDIS_URL")
    target = resolve_target(
        args.url,
        username=args.username,
        password=args.password,
        ca_file=args.ca_file,
        tls_insecure=bool(args.tls_insecure),
    )
    heartbeat = None
    if args.heartbeat_key:
        heartbeat = RedisHeartbeat(
            key=args.heartbeat_key,
            ttl_s=ttl_for_interval(args.interval),
            host=socket.gethostname(),
            pid=os.getpid(),
        )
    return RedisProbe(target, keep_connection=bool(args.keep_connection), heartbeat=heartbeat)


def main(argv: Sequence[str] | None = None) -> int:
    """Console script entry point; returns the exit code."""
    args = build_redis_parser().parse_args(argv)
    return run_cli(args, make_probe, TOOL)
