"""The monitor-net command line: targets, outage log, tones; the rest is the shared CLI."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from loguru import logger

from rsdev_misc.monitor import (
    LoopObserver,
    MonitorSettings,
    UsageError,
    add_setting,
    build_parser,
    run_cli,
)
from rsdev_misc.monitor_net.checks import Check, parse_dns, parse_http, parse_tcp
from rsdev_misc.monitor_net.observer import NetObserver
from rsdev_misc.monitor_net.outages import OutageLog
from rsdev_misc.monitor_net.probe import NetProbe

__all__ = ["DEFAULT_TARGETS", "ENV_PREFIX", "TOOL", "build_net_parser", "main"]

TOOL = "monitor-net"
ENV_PREFIX = "RSDEV_MONITOR_NET"
# Used only when no target of any kind is configured: three independent public resolvers.
DEFAULT_TARGETS = ("1.1.1.1:53", "8.8.8.8:53", "9.9.9.9:53")

_DESCRIPTION = """\
Watch the network connection: every interval, TCP-connect to each --target (and run each
--dns lookup and --http request) in parallel. All failing = offline (counts towards DOWN),
some failing = degraded (alerted distinctly), none = online. A low falling tone sounds on
DOWN, a high rising one on UP; finished outages go to --outage-log as JSON lines."""

_EPILOG = f"""\
examples (loopback targets; without any target the public resolvers
{", ".join(DEFAULT_TARGETS)} are used):
  monitor-net --target 127.0.0.1:53 --target 127.0.0.1:8080 --interval 5
  monitor-net --once --json --target 127.0.0.1:22
  monitor-net --target 127.0.0.1:53 --dns example.test@127.0.0.1:53 \\
              --http http://127.0.0.1:8080/generate_204 --outage-log ~/net-outages.jsonl"""


def build_net_parser() -> argparse.ArgumentParser:
    parser = build_parser(
        TOOL, _DESCRIPTION, ENV_PREFIX, epilog=_EPILOG, defaults={"interval": 10.0, "timeout": 2.0}
    )
    group = parser.add_argument_group("monitor-net")
    add_setting(
        parser,
        "--target",
        env=f"{ENV_PREFIX}_TARGETS",
        config_key="targets",
        multiple=True,
        metavar="HOST:PORT",
        group=group,
        help="TCP connect target, repeatable ([v6]:PORT for IPv6); env: comma-separated",
    )
    add_setting(
        parser,
        "--dns",
        env=f"{ENV_PREFIX}_DNS",
        config_key="dns",
        multiple=True,
        metavar="NAME@SERVER[:PORT]",
        group=group,
        help="DNS A lookup of NAME at SERVER (UDP, port 53 by default), repeatable",
    )
    add_setting(
        parser,
        "--http",
        env=f"{ENV_PREFIX}_HTTP",
        config_key="http",
        multiple=True,
        metavar="URL",
        group=group,
        help="GET URL expecting 204 No Content, repeatable",
    )
    add_setting(
        parser,
        "--outage-log",
        env=f"{ENV_PREFIX}_OUTAGE_LOG",
        config_key="outage_log",
        type=Path,
        metavar="FILE",
        group=group,
        help="append each finished outage (offline or degraded) as a JSON line",
    )
    add_setting(
        parser,
        "--no-sound",
        env=f"{ENV_PREFIX}_NO_SOUND",
        config_key="no_sound",
        flag=True,
        group=group,
        help="no DOWN/UP tones",
    )
    return parser


def _checks(args: argparse.Namespace) -> list[Check]:
    specs: list[tuple[Callable[[str], Check], str]] = [(parse_tcp, t) for t in args.target or []]
    specs += [(parse_dns, d) for d in args.dns or []]
    specs += [(parse_http, h) for h in args.http or []]
    if not specs:
        logger.warning("no targets given: using the public resolvers {}", DEFAULT_TARGETS)
        specs = [(parse_tcp, t) for t in DEFAULT_TARGETS]
    checks = []
    for parse, spec in specs:
        try:
            checks.append(parse(spec))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return checks


def _probe(args: argparse.Namespace) -> NetProbe:
    from lib_common.tls import TLSPolicy

    checks = _checks(args)
    tls = (
        TLSPolicy().ssl_context()
        if any(c.url and c.url.startswith("https:") for c in checks)
        else None
    )
    return NetProbe(checks, tls=tls)


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``monitor-net``."""
    args = build_net_parser().parse_args(argv)
    probes: list[NetProbe] = []

    def factory(a: argparse.Namespace) -> NetProbe:
        probe = _probe(a)
        probes.append(probe)
        return probe

    def observers(a: argparse.Namespace, settings: MonitorSettings) -> list[LoopObserver]:
        from rsdev_misc.sound import TonePlayer

        tones = None if a.no_sound else TonePlayer()
        return [NetObserver(probes[0], settings, outage_log=OutageLog(a.outage_log), tones=tones)]

    return run_cli(args, factory, TOOL, observers=observers)
