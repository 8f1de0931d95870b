"""monitor-net: is the network up? TCP/DNS/HTTP checks in parallel, debounced, with tones.

Built on the shared monitor loop (`rsdev_misc.monitor`); this package adds the checks
(`checks`, `dns`), the round classification (`NetProbe`: online / degraded / offline), the
degraded tracking, tones and outage log (`NetObserver`, `OutageLog`) and the CLI (`main`).
"""

from rsdev_misc.monitor_net.checks import Check, CheckResult, run_check
from rsdev_misc.monitor_net.cli import DEFAULT_TARGETS, build_net_parser, main
from rsdev_misc.monitor_net.dns import DnsAnswer, DnsError, build_query, parse_response
from rsdev_misc.monitor_net.observer import NetObserver
from rsdev_misc.monitor_net.outages import OutageLog
from rsdev_misc.monitor_net.probe import NetProbe, summarize

__all__ = [
    "DEFAULT_TARGETS",
    "Check",
    "CheckResult",
    "DnsAnswer",
    "DnsError",
    "NetObserver",
    "NetProbe",
    "OutageLog",
    "build_net_parser",
    "build_query",
    "main",
    "parse_response",
    "run_check",
    "summarize",
]
