"""The engine's upstream side, built one way for both gateways.

`build_manager(upstream, settings, …)` returns an `UpstreamManager` (not yet running) over

- sources built from an `UpstreamPlan` (URLs and how patient to be): the Yahoo stream
  client, the Yahoo REST poller and, when the plan names a CNN base URL, the Fear & Greed
  poller; the stream client's stall watchdog asks the manager's calendar whether a
  symbol should be trading, and a loopback upstream (the simulator, a replay) is never
  reached through a proxy;
- or ready-made `UpstreamSources` (e.g. a replay of recorded quotes), which the manager
  owns and runs; those run once, so they make one manager only.

restream passes its CNN URL, a Fear & Greed schedule and a frame tap (`--record`);
server-yahoo has no indicators and tunes the reconnect cap and the heartbeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lib_common.core.calendar import MarketCalendar
from lib_common.core.clock import SYSTEM_CLOCK, Clock
from lib_common.core.market_hours import is_open
from lib_common.core.upstream_manager import (
    IndicatorSource,
    ManagerSettings,
    PollSource,
    StreamSource,
    UpstreamManager,
    UpstreamStatus,
)
from lib_common.ingestors.cnn import FearGreed, FearGreedPoller, FearGreedSchedule
from lib_common.ingestors.cnn import ScheduleSettings as FearGreedScheduleSettings
from lib_common.ingestors.yahoo.backoff import BackoffPolicy
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ingestors.yahoo.stream import FrameTap, StreamConfig, YahooStreamClient
from rsdev_servers.common.security import is_loopback_host

__all__ = ["UpstreamPlan", "UpstreamSources", "build_manager", "build_sources", "is_loopback_url"]

TradingPredicate = Callable[[str, datetime], bool]


@dataclass(frozen=True, slots=True)
class UpstreamPlan:
    """Where the upstream is and how patient to be with it (seconds).

    cnn_url: CNN's base URL (None: no Fear & Greed poller). reconnect_max_delay: the
    longest reconnect delay (None: the stream client's default). fear_greed_always_open:
    poll CNN whatever the market (demo). frame_tap: sees every raw stream frame (record).
    """

    stream_url: str
    rest_url: str
    cnn_url: str | None = None
    inactivity_timeout: float = 30.0
    poll_interval: float = 10.0
    reconnect_max_delay: float | None = None
    heartbeat_interval: float = 15.0
    fear_greed_schedule: FearGreedScheduleSettings | None = None
    fear_greed_always_open: bool = False
    frame_tap: FrameTap | None = None


@dataclass(frozen=True, slots=True)
class UpstreamSources:
    """Ready-made sources for the upstream manager, instead of the ones built from a plan
    (e.g. a replay of recorded quotes). The manager owns and runs them."""

    stream: StreamSource
    poller: PollSource | None = None
    fear_greed: IndicatorSource | None = None


def build_sources(
    plan: UpstreamPlan, *, is_trading: TradingPredicate, clock: Clock = SYSTEM_CLOCK
) -> UpstreamSources:
    """The stream client, REST poller and (with `plan.cnn_url`) CNN poller of `plan`."""
    cap = plan.reconnect_max_delay
    config = StreamConfig(
        url=plan.stream_url,
        inactivity_timeout=plan.inactivity_timeout,
        heartbeat_interval=plan.heartbeat_interval,
        backoff=BackoffPolicy() if cap is None else _capped_backoff(cap),
        # A loopback upstream (the simulator) must never be reached through a proxy.
        proxy=None if is_loopback_url(plan.stream_url) else True,
    )
    stream = YahooStreamClient(config, is_trading=is_trading, on_frame=plan.frame_tap)
    poller = YahooRestPoller(plan.rest_url, interval=plan.poll_interval, clock=clock.monotonic)
    fear_greed = None
    if plan.cnn_url is not None:
        schedule = None
        if plan.fear_greed_schedule is not None:
            schedule = FearGreedSchedule(plan.fear_greed_schedule)
        fear_greed = FearGreedPoller(
            plan.cnn_url,
            schedule=schedule,
            history=False,
            market_open=(lambda now: True) if plan.fear_greed_always_open else is_open,
        )
    return UpstreamSources(stream, poller, fear_greed)


def build_manager(
    upstream: UpstreamPlan | UpstreamSources,
    settings: ManagerSettings,
    *,
    on_quote: Callable[[Quote], None],
    on_status: Callable[[UpstreamStatus], None],
    on_indicator: Callable[[FearGreed], None] | None = None,
    calendar: MarketCalendar,
    clock: Clock = SYSTEM_CLOCK,
) -> UpstreamManager[Any]:
    """An `UpstreamManager` over `upstream`'s sources (not yet running)."""
    manager: UpstreamManager[Any]

    def is_trading(symbol: str, now: datetime) -> bool:
        return manager.is_trading(symbol, now)

    if isinstance(upstream, UpstreamSources):
        sources = upstream
    else:
        sources = build_sources(upstream, is_trading=is_trading, clock=clock)
    manager = UpstreamManager(
        stream=sources.stream,
        poller=sources.poller,
        fear_greed=sources.fear_greed,
        on_quote=on_quote,
        on_status=on_status,
        on_indicator=on_indicator,
        calendar=calendar,
        clock=clock,
        settings=settings,
    )
    return manager


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is a loopback address (or `localhost`)."""
    host = urlsplit(url).hostname
    return host is not None and is_loopback_host(host)


def _capped_backoff(cap: float) -> BackoffPolicy:
    """The stream client's default reconnect shape, with `cap` as the longest delay."""
    default = BackoffPolicy()
    return BackoffPolicy(base=min(default.base, cap), cap=cap, floor=min(default.floor, cap))
