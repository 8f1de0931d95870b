"""REST polling driven by the manager: the real poller against the simulator's chart
endpoint, on the manager's manual clock (the simulator reads the same clock, so REST times
and stream times agree). The stream is scripted.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lib_common.core.clock import ManualClock
from lib_common.core.upstream_manager import ManagerSettings
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ingestors.yahoo.stream_events import Connected, Stalled
from lib_common.sim import SimConfig, run_simulator

NY = ZoneInfo("America/New_York")
OPEN = datetime(2026, 11, 27, 10, 0, tzinfo=NY)
THANKSGIVING = datetime(2026, 11, 26, 10, 0, tzinfo=NY)
REST_INTERVAL = 10.0
GRACE = 5.0


def chart_requests(sim) -> int:
    return int(sim.stats()["rest_requests"]["chart"])


@pytest.mark.anyio
async def test_closed_market_polls_once_for_a_snapshot_then_slowly(make_harness) -> None:
    """IDLE: a new symbol is polled at once (its snapshot), then every idle_poll_interval;
    an unchanged value is not forwarded again."""
    clock = ManualClock(wall=THANKSGIVING.timestamp())
    settings = ManagerSettings(idle_poll_interval=300.0, market_recheck=3600)
    async with run_simulator(SimConfig(rate=0, clock=clock.time)) as sim:
        poller = YahooRestPoller(
            sim.rest_url, interval=REST_INTERVAL, clock=clock.monotonic, sleep=clock.sleep
        )
        h = make_harness(THANKSGIVING, settings=settings, poller=poller, clock=clock)
        async with h.running():
            h.manager.subscribe("c1", ["AAPL"])
            await h.rec.until(lambda: bool(h.rec.quotes))
            assert h.mode() == "idle"
            (snapshot,) = [q for _, q in h.rec.quotes]
            assert (snapshot.symbol, snapshot.source) == ("AAPL", "poll")
            assert snapshot == h.manager.last_quote("AAPL")
            assert h.stream.calls == []  # the stream stays closed

            await h.advance(299.0)
            await h.settle()
            assert chart_requests(sim) == 1
            await h.advance(1.0)
            await h.rec.until(lambda: chart_requests(sim) == 2)
            await h.rec.until(lambda: h.manager.stats().poll_rounds == 2)
            await h.settle()
            assert len(h.rec.quotes) == 1  # same value: not forwarded twice


@pytest.mark.anyio
async def test_failover_polls_on_the_cadence_and_stops_when_streaming_returns(
    make_harness,
) -> None:
    """POLLING: a round at once, then every REST interval; poll quotes reach on_quote with
    source "poll", stream quotes still pass; back in STREAMING no more rounds."""
    clock = ManualClock(wall=OPEN.timestamp())
    settings = ManagerSettings(grace=GRACE, hysteresis=10.0, idle_poll_interval=None)
    async with run_simulator(SimConfig(rate=0, clock=clock.time)) as sim:
        poller = YahooRestPoller(
            sim.rest_url, interval=REST_INTERVAL, clock=clock.monotonic, sleep=clock.sleep
        )
        h = make_harness(OPEN, settings=settings, poller=poller, clock=clock)
        async with h.running():
            h.manager.subscribe("c1", ["AAPL", "MSFT"])
            await h.settle()
            assert h.mode() == "streaming"
            assert chart_requests(sim) == 0

            h.stream.event(Stalled(0, 30.0))
            await h.advance(GRACE)
            assert h.mode() == "polling"
            await h.rec.until(lambda: len(h.rec.quotes_since(0, "poll")) == 2)
            assert {"AAPL", "MSFT"} == {q.symbol for q in h.rec.quotes_since(0, "poll")}
            assert chart_requests(sim) == 2

            await h.advance(REST_INTERVAL)
            await h.rec.until(lambda: chart_requests(sim) == 4)
            await h.rec.until(lambda: h.manager.stats().poll_rounds == 2)
            await h.settle()
            assert len(h.rec.quotes_since(0, "poll")) == 2  # unchanged: not forwarded again

            now_us = int(clock.time() * 1e6)
            h.stream.event(Connected(0, "ws://scripted", 2))  # reconnected, then data
            h.stream.send(Quote("AAPL", 150.0, ts_upstream=now_us, ts_library_in=now_us))
            await h.rec.until(lambda: h.rec.quotes[-1][1].price == 150.0)
            assert h.rec.quotes[-1][1].source == "stream"  # stream quotes pass in POLLING

            await h.advance(settings.hysteresis)
            assert h.mode() == "streaming"
            rounds = h.manager.stats().poll_rounds
            await h.advance(REST_INTERVAL * 5)
            await h.settle()
            assert rounds == h.manager.stats().poll_rounds


@pytest.mark.anyio
async def test_a_symbol_added_while_polling_is_polled_at_once(make_harness) -> None:
    """In POLLING a new symbol does not wait for the next round: only it is fetched now."""
    clock = ManualClock(wall=OPEN.timestamp())
    settings = ManagerSettings(grace=GRACE, idle_poll_interval=None)
    async with run_simulator(SimConfig(rate=0, clock=clock.time)) as sim:
        poller = YahooRestPoller(
            sim.rest_url, interval=REST_INTERVAL, clock=clock.monotonic, sleep=clock.sleep
        )
        h = make_harness(OPEN, settings=settings, poller=poller, clock=clock)
        async with h.running():
            h.manager.subscribe("c1", ["AAPL"])
            await h.settle()
            h.stream.event(Stalled(0, 30.0))
            await h.advance(GRACE)
            await h.rec.until(lambda: len(h.rec.quotes_since(0, "poll")) == 1)
            await h.advance(1.0)
            h.manager.subscribe("c2", ["KO"])
            await h.rec.until(lambda: any(q.symbol == "KO" for q in h.rec.quotes_since(0, "poll")))
            assert chart_requests(sim) == 2  # AAPL once, KO once: no full round early
