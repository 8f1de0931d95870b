"""Build the shared engine's upstream side for server-yahoo: stream client, REST poller,
upstream manager.

LOCAL ADAPTER (until `rsdev_servers.common` offers one): restream assembles the same three
parts; this is the minimal wiring server-yahoo needs, without the CNN poller (the Yahoo
protocol has no indicators). The manager owns the symbol registry (refcounts, linger,
limits), the mode machine and the last-value cache; the stream client's stall watchdog asks
the manager's calendar whether a symbol should be trading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from lib_common.core.calendar import MarketCalendar
from lib_common.core.clock import SYSTEM_CLOCK, Clock
from lib_common.core.upstream_manager import ManagerSettings, UpstreamManager, UpstreamStatus
from lib_common.ingestors.yahoo.backoff import BackoffPolicy
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ingestors.yahoo.stream import StreamConfig, YahooStreamClient
from rsdev_servers.common.security import is_loopback_host

__all__ = ["UpstreamPlan", "build_manager"]


@dataclass(frozen=True, slots=True)
class UpstreamPlan:
    """Where the upstream is and how patient to be with it (seconds)."""

    stream_url: str
    rest_url: str
    linger: float = 30.0
    client_limit: int = 200
    global_limit: int = 1000
    grace: float = 5.0
    hysteresis: float = 10.0
    inactivity_timeout: float = 30.0
    poll_interval: float = 10.0
    reconnect_max_delay: float = 30.0
    heartbeat_interval: float = 15.0


def build_manager(
    plan: UpstreamPlan,
    *,
    on_quote: Callable[[Quote], None],
    on_status: Callable[[UpstreamStatus], None],
    calendar: MarketCalendar,
    clock: Clock = SYSTEM_CLOCK,
) -> UpstreamManager[int]:
    """An `UpstreamManager` over a Yahoo stream client and a REST poller (not yet running)."""
    manager: UpstreamManager[int]

    def is_trading(symbol: str, now: datetime) -> bool:
        return manager.is_trading(symbol, now)

    stream = YahooStreamClient(
        StreamConfig(
            url=plan.stream_url,
            inactivity_timeout=plan.inactivity_timeout,
            heartbeat_interval=plan.heartbeat_interval,
            backoff=_backoff(plan.reconnect_max_delay),
            # A loopback upstream (the simulator) must never be reached through a proxy.
            proxy=None if _is_loopback_url(plan.stream_url) else True,
        ),
        is_trading=is_trading,
    )
    poller = YahooRestPoller(plan.rest_url, interval=plan.poll_interval, clock=clock.monotonic)
    manager = UpstreamManager[int](
        stream=stream,
        poller=poller,
        on_quote=on_quote,
        on_status=on_status,
        calendar=calendar,
        clock=clock,
        settings=ManagerSettings(
            linger=plan.linger,
            client_limit=plan.client_limit,
            global_limit=plan.global_limit,
            grace=plan.grace,
            hysteresis=plan.hysteresis,
        ),
    )
    return manager


def _backoff(cap: float) -> BackoffPolicy:
    """The stream client's default reconnect shape, with `cap` as the longest delay."""
    default = BackoffPolicy()
    return BackoffPolicy(base=min(default.base, cap), cap=cap, floor=min(default.floor, cap))


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname
    return host is not None and is_loopback_host(host)
