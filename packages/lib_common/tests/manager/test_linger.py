"""The linger timer the manager drives: first subscriber → one upstream subscribe, last one
gone → linger, resubscribe in time → no upstream traffic, expiry → one unsubscribe.

The first tests use a scripted stream on a manual clock; the last runs the real stream
client against the simulator and reads the simulator's own counters, with the manager's
clock manual so that a 30 s linger takes no time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.clock import ManualClock
from lib_common.core.upstream_manager import ManagerSettings
from lib_common.sim import SimConfig, run_simulator

LINGER = 30.0
SETTINGS = ManagerSettings(linger=LINGER, idle_poll_interval=None)
START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 10:00 New York, open


@pytest.mark.anyio
async def test_resubscribe_within_the_linger_sends_nothing_and_expiry_one_unsubscribe(
    make_harness,
) -> None:
    """disconnect → linger; another client within it → no add/remove; expiry → one remove."""
    h = make_harness(START, calendar=ALWAYS_OPEN, settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("a", ["AAPL"])
        await h.settle()
        assert h.stream.calls == [("add", ("AAPL",))]
        change = h.manager.disconnect("a")
        assert change.linger_started == ("AAPL",)
        assert h.manager.registry.is_lingering("AAPL")
        await h.advance(LINGER - 1)
        change = h.manager.subscribe("b", ["AAPL"])
        assert change.linger_cancelled == ("AAPL",)
        assert change.upstream_subscribe == ()
        await h.advance(LINGER * 2)
        assert h.stream.calls == [("add", ("AAPL",))]  # no traffic at all
        assert h.manager.last_quote("AAPL") is not None  # the value was kept

        h.manager.unsubscribe("b", ["AAPL"])
        await h.advance(LINGER - 0.01)
        assert h.stream.calls == [("add", ("AAPL",))]
        await h.advance(0.01)
        assert h.stream.calls == [("add", ("AAPL",)), ("remove", ("AAPL",))]
        assert h.manager.last_quote("AAPL") is None  # no longer followed: value dropped
        assert h.mode() == "idle"
        stats = h.manager.stats()
        assert (stats.upstream_subscribes, stats.upstream_unsubscribes) == (1, 1)
        assert stats.registry.linger_cancels == 1


@pytest.mark.anyio
async def test_each_lingering_symbol_expires_at_its_own_deadline(make_harness) -> None:
    """Two symbols dropped 10 s apart are unsubscribed 10 s apart, each after the linger."""
    h = make_harness(START, calendar=ALWAYS_OPEN, settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("a", ["AAPL", "MSFT", "KO"])
        await h.settle()
        h.manager.unsubscribe("a", ["AAPL"])
        await h.advance(10)
        h.manager.unsubscribe("a", ["MSFT"])
        await h.advance(LINGER - 10 + 0.001)
        assert h.stream.calls[-1] == ("remove", ("AAPL",))
        await h.advance(10 - 0.002)
        assert h.stream.calls[-1] == ("remove", ("AAPL",))
        await h.advance(0.002)
        assert h.stream.calls[-1] == ("remove", ("MSFT",))
        assert h.mode() == "streaming"  # KO is still wanted
        assert h.manager.health().active_symbols == 1


@pytest.mark.anyio
async def test_linger_against_the_simulator_counts_exactly_one_subscribe_and_unsubscribe(
    sim_tools,
) -> None:
    """Real stream client, real simulator: a resubscribe within the linger reaches the
    simulator as nothing at all; expiry reaches it as exactly one unsubscribe."""
    clock = ManualClock(wall=START.timestamp())
    settings = ManagerSettings(linger=LINGER, grace=1e6, idle_poll_interval=None)
    async with (
        run_simulator(SimConfig(rate=50)) as sim,
        sim_tools.manager(sim, settings=settings, clock=clock, stream={"idle_grace": 60.0}) as (
            manager,
            rec,
        ),
    ):
        subs, unsubs = sim_tools.subscribes, sim_tools.unsubscribes
        manager.subscribe("a", ["AAPL"])
        await rec.until(lambda: subs(sim, "AAPL") == 1 and bool(rec.quotes))
        manager.disconnect("a")
        await clock.advance(LINGER / 2)
        manager.subscribe("b", ["AAPL"])
        await clock.advance(LINGER * 2)
        # Barrier: a later subscribe on the same socket has arrived, so anything the client
        # sent for AAPL before it has been counted too.
        manager.subscribe("b", ["MSFT"])
        await rec.until(lambda: subs(sim, "MSFT") == 1)
        assert (subs(sim, "AAPL"), unsubs(sim, "AAPL")) == (1, 0)

        manager.disconnect("b")
        await clock.advance(LINGER + 0.001)
        await rec.until(lambda: unsubs(sim, "AAPL") == 1)
        manager.subscribe("c", ["KO"])  # the socket is kept (idle_grace): same ordering
        await rec.until(lambda: subs(sim, "KO") == 1)
        assert (subs(sim, "AAPL"), unsubs(sim, "AAPL")) == (1, 1)
        assert unsubs(sim, "MSFT") == 1
        assert sim.stats()["connections"]["total"] == 1
        stats = manager.stats()
        assert (stats.upstream_subscribes, stats.upstream_unsubscribes) == (3, 2)
