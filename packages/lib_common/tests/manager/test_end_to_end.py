"""The manager on the real stream client, REST poller and CNN poller, against the real
simulator over loopback: stall failover and recovery, an abrupt disconnect, Fear & Greed.

Failover tests run on real time with short timers (multiples of `unit`); the Fear & Greed
test freezes the simulator's clock and drives the manager's on a manual clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from lib_common.core.clock import ManualClock
from lib_common.core.stream_health import StreamState
from lib_common.core.upstream_manager import FEAR_GREED, ManagerSettings, UpstreamMode
from lib_common.sim import Fault, SimConfig, run_simulator
from lib_common.sim import ManualClock as SimClock

SYMBOLS = ["AAPL", "BTC-USD"]


def _symbols(quotes) -> set[str]:
    return {q.symbol for q in quotes}


@pytest.mark.anyio
async def test_a_stall_fails_over_to_polling_within_the_grace_and_recovers(sim_tools, unit) -> None:
    """Stall injected → on_status(polling) within watchdog + grace (+ tolerance), poll
    quotes flow; stall cleared → on_status(streaming) after the hysteresis, stream quotes."""
    timeout, grace, hysteresis = 3 * unit, 3 * unit, 5 * unit
    settings = ManagerSettings(grace=grace, hysteresis=hysteresis, idle_poll_interval=None)
    async with (
        run_simulator(SimConfig(rate=100)) as sim,
        sim_tools.manager(
            sim, settings=settings, stream={"inactivity_timeout": timeout}, rest_interval=unit
        ) as (manager, rec),
    ):
        manager.subscribe("c1", SYMBOLS)
        await rec.until(lambda: _symbols(rec.quotes_since(0, "stream")) == set(SYMBOLS))
        await rec.until(lambda: manager.health().upstream is StreamState.HEALTHY)
        assert manager.mode == UpstreamMode.STREAMING

        t_fault = time.monotonic()
        sim.inject(Fault("stall"))
        t_polling = await rec.until(lambda: manager.mode is UpstreamMode.POLLING)
        assert grace <= t_polling - t_fault <= timeout + grace + 10 * unit
        failover = rec.statuses[-1][1]
        assert failover.mode == UpstreamMode.POLLING
        assert failover.upstream in (StreamState.STALLED, StreamState.RECOVERING)
        assert "stall" in failover.reason
        await rec.until(lambda: _symbols(rec.quotes_since(t_polling, "poll")) == set(SYMBOLS))
        assert all(manager.last_quote(s) is not None for s in SYMBOLS)

        sim.clear_faults()
        t_clear = time.monotonic()
        t_back = await rec.until(lambda: manager.mode is UpstreamMode.STREAMING)
        assert t_back - t_clear >= hysteresis
        await rec.until(lambda: _symbols(rec.quotes_since(t_back, "stream")) == set(SYMBOLS))
        assert rec.modes() == ["idle", "streaming", "polling", "streaming"]
        stats = manager.stats()
        assert stats.quotes_out["poll"] >= 2
        assert (stats.transitions) == {
            "idle->streaming": 1,
            "streaming->polling": 1,
            "polling->streaming": 1,
        }


@pytest.mark.anyio
async def test_an_abrupt_disconnect_resumes_quotes_with_no_client_action(sim_tools, unit) -> None:
    """The upstream socket dropped without a close frame: quotes of every symbol resume on
    a new connection, the clients do nothing, and the mode never leaves STREAMING."""
    settings = ManagerSettings(grace=30 * unit, idle_poll_interval=None)
    async with (
        run_simulator(SimConfig(rate=100)) as sim,
        sim_tools.manager(sim, settings=settings, rest_interval=unit) as (manager, rec),
    ):
        manager.subscribe("c1", SYMBOLS)
        await rec.until(lambda: _symbols(rec.quotes_since(0)) == set(SYMBOLS))
        sim.inject(Fault("disconnect"))
        t_fault = time.monotonic()
        await rec.until(lambda: sim.stats()["connections"]["total"] == 2)
        await rec.until(lambda: _symbols(rec.quotes_since(t_fault, "stream")) == set(SYMBOLS))
        await rec.until(lambda: manager.health().upstream is StreamState.HEALTHY)
        assert rec.modes() == ["idle", "streaming"]
        assert rec.quotes_since(0, "poll") == []
        health = manager.health()
        assert health.reconnects >= 1
        assert health.connections == 1


@pytest.mark.anyio
async def test_fear_greed_subscription_delivers_the_simulated_index(sim_tools) -> None:
    """`@fear_greed` → on_indicator with the simulator's CNN value; never sent to Yahoo;
    the CNN poller runs only while the indicator is followed (linger included)."""
    sim_clock = SimClock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC).timestamp())
    clock = ManualClock(wall=sim_clock())
    settings = ManagerSettings(linger=30.0, idle_poll_interval=None)
    async with (
        run_simulator(SimConfig(rate=10, clock=sim_clock)) as sim,
        sim_tools.manager(sim, settings=settings, clock=clock, cnn=True) as (manager, rec),
    ):
        expected = sim.fear_greed.payload()["fear_and_greed"]
        cnn_requests = lambda: int(sim.stats()["rest_requests"]["cnn"])  # noqa: E731
        assert cnn_requests() == 0  # nobody wants it yet

        change = manager.subscribe("c1", ["@Fear_Greed"])
        assert change.added == (FEAR_GREED,)
        await rec.until(lambda: bool(rec.indicators))
        value = rec.indicators[0][1]
        assert (expected["score"], expected["rating"]) == (value.score, value.rating)
        assert value == manager.last_indicator(FEAR_GREED)
        assert value == manager.last_indicator("fear_greed")
        assert manager.mode == UpstreamMode.IDLE  # an indicator is not a market symbol
        assert sim.stats()["subscribe_counts"] == {}
        assert manager.stats().upstream_subscribes == 0

        for _ in range(30):  # the poller's next fetch comes within its longest delay
            await clock.advance(60.0)
            if cnn_requests() >= 2:
                break
        await rec.until(lambda: cnn_requests() >= 2)
        await clock.advance(0)
        assert len(rec.indicators) == 1  # unchanged value: not emitted twice

        manager.unsubscribe("c1", [FEAR_GREED])
        await clock.advance(30.0)
        assert not manager.registry.is_lingering(FEAR_GREED)
        fetched = cnn_requests()
        await clock.advance(3600.0)
        assert fetched == cnn_requests()  # the poller stopped with the linger
        assert value == manager.last_indicator(FEAR_GREED)  # the value stays for snapshots
