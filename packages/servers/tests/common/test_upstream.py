"""The one upstream builder both gateways use: sources from a plan, or ready-made ones."""

from __future__ import annotations

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.upstream_manager import ManagerSettings
from lib_common.ingestors.cnn import FearGreedPoller
from lib_common.ingestors.yahoo.stream import YahooStreamClient
from rsdev_servers.common.upstream import (
    UpstreamPlan,
    UpstreamSources,
    build_manager,
    build_sources,
    is_loopback_url,
)


def _never(symbol: str, now: object) -> bool:
    return False


def test_a_plan_without_cnn_builds_no_fear_greed_poller() -> None:
    """stream + REST only (server-yahoo); a loopback stream URL is dialled without a proxy."""
    sources = build_sources(
        UpstreamPlan("ws://127.0.0.1:9/", "http://127.0.0.1:9"), is_trading=_never
    )
    assert isinstance(sources.stream, YahooStreamClient)
    assert sources.poller is not None
    assert sources.fear_greed is None
    assert sources.stream.config.proxy is None


def test_plan_timings_reach_the_stream_client() -> None:
    """Inactivity timeout, heartbeat and the reconnect cap are the plan's; a CNN URL adds
    the Fear & Greed poller; a non-loopback URL may use the environment's proxy."""
    plan = UpstreamPlan(
        "wss://streamer.invalid/",
        "http://127.0.0.1:9",
        cnn_url="http://127.0.0.1:9",
        inactivity_timeout=0.4,
        heartbeat_interval=3.0,
        reconnect_max_delay=0.3,
    )
    sources = build_sources(plan, is_trading=_never)
    assert isinstance(sources.stream, YahooStreamClient)
    config = sources.stream.config
    assert 0.4 == config.inactivity_timeout
    assert 3.0 == config.heartbeat_interval
    assert 0.3 == config.backoff.cap
    assert config.proxy is True
    assert isinstance(sources.fear_greed, FearGreedPoller)


def test_ready_made_sources_are_used_as_given() -> None:
    """build_manager runs the sources it is handed (a replay), building none of its own."""
    stream = YahooStreamClient()
    manager = build_manager(
        UpstreamSources(stream),
        ManagerSettings(linger=1.0),
        on_quote=lambda quote: None,
        on_status=lambda status: None,
        calendar=ALWAYS_OPEN,
    )
    assert stream is manager._stream


def test_is_loopback_url() -> None:
    """Loopback literals and localhost are loopback; names and other addresses are not."""
    assert is_loopback_url("ws://127.0.0.1:8765/")
    assert is_loopback_url("http://[::1]:1/")
    assert is_loopback_url("ws://localhost/")
    assert not is_loopback_url("wss://streamer.finance.yahoo.com/")
    assert not is_loopback_url("http://10.0.0.1/")
