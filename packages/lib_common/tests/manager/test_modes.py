"""Modes over the calendar and stream health, on a manual clock with a scripted stream.

2026-11-26 is Thanksgiving (closed), 2026-11-27 closes early (regular 09:30–13:00, post
until 17:00), 2026-11-28/29 is a weekend. Durations are exact: the manual clock wakes
each timer at its deadline.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.market_hours import MarketSession
from lib_common.core.stream_health import StreamState
from lib_common.core.upstream_manager import ManagerSettings
from lib_common.core.upstream_modes import UpstreamMode
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream_events import Connected, Disconnected, Reconnecting, Stalled

NY = ZoneInfo("America/New_York")
GRACE, HYSTERESIS = 5.0, 10.0
SETTINGS = ManagerSettings(
    linger=30.0, grace=GRACE, hysteresis=HYSTERESIS, idle_poll_interval=None, market_recheck=3600
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def at(status_at_us: int) -> datetime:
    """A status's wall time in New York."""
    return datetime.fromtimestamp(status_at_us / 1e6, NY)


@pytest.mark.anyio
async def test_modes_follow_thanksgiving_the_early_close_and_the_weekend(make_harness) -> None:
    """IDLE on the holiday, STREAMING from pre-market to the 17:00 early-close post end,
    IDLE on Saturday until a crypto symbol arrives."""
    h = make_harness(ny(2026, 11, 26, 10, 0), settings=SETTINGS)
    async with h.running():
        first = h.rec.statuses[0][1]
        assert (
            first.mode,
            first.market,
            first.reason,
        ) == (UpstreamMode.IDLE, MarketSession.CLOSED, "started")
        change = h.manager.subscribe("c1", ["AAPL"])
        assert change.upstream_subscribe == ("AAPL",)
        await h.settle()
        assert h.mode() == "idle"
        assert h.stream.calls == []  # closed market: nothing sent upstream
        assert h.manager.health().market_open is False

        await h.advance_to(ny(2026, 11, 27, 3, 59, 59))
        assert h.mode() == "idle"
        await h.advance_to(ny(2026, 11, 27, 4, 0, 1))
        assert h.mode() == "streaming"
        assert h.stream.calls == [("add", ("AAPL",))]
        opened = h.rec.statuses[-1][1]
        assert opened.market == MarketSession.PRE
        assert ny(2026, 11, 27, 4, 0) <= at(opened.at_us) < ny(2026, 11, 27, 4, 0, 1)

        await h.advance_to(ny(2026, 11, 27, 9, 30, 1))
        assert h.manager.status().market == MarketSession.REGULAR
        await h.advance_to(ny(2026, 11, 27, 13, 0, 1))
        assert h.manager.status().market == MarketSession.POST  # early close
        await h.advance_to(ny(2026, 11, 27, 16, 59, 59))
        assert h.mode() == "streaming"  # the post session runs to 17:00 on early-close days
        await h.advance_to(ny(2026, 11, 27, 17, 0, 1))
        assert h.mode() == "idle"
        assert h.stream.calls[-1] == ("remove", ("AAPL",))
        closed = h.rec.statuses[-1][1]
        assert closed.market == MarketSession.CLOSED
        assert ny(2026, 11, 27, 17, 0) <= at(closed.at_us) < ny(2026, 11, 27, 17, 0, 1)

        await h.advance_to(ny(2026, 11, 28, 12, 0))
        assert h.mode() == "idle"
        h.manager.subscribe("c1", ["BTC-USD"])
        await h.settle()
        assert h.mode() == "streaming"  # crypto trades around the clock
        assert {"AAPL", "BTC-USD"} == set(h.stream.calls[-1][1])
        assert h.manager.status().market == MarketSession.CLOSED
        await h.advance_to(ny(2026, 11, 30, 4, 0, 1))
        assert h.mode() == "streaming"
        assert h.manager.status().market == MarketSession.PRE

        markets = [s.market.value for _, s in h.rec.statuses]
        assert _runs(markets) == ["closed", "pre", "regular", "post", "closed", "pre"]
        assert h.rec.modes() == ["idle", "streaming", "idle", "streaming"]


def _runs(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


@pytest.mark.anyio
async def test_a_stall_fails_over_exactly_at_the_grace_and_recovery_waits_for_hysteresis(
    make_harness,
) -> None:
    """Stalled → POLLING after `grace`; reconnected but silent stays POLLING; the first
    quote starts the hysteresis, and STREAMING returns exactly `hysteresis` later."""
    h = make_harness(ny(2026, 11, 27, 10, 0), settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("c1", ["AAPL"])
        await h.settle()
        assert h.mode() == "streaming"
        assert h.manager.health().upstream == StreamState.HEALTHY

        h.stream.event(Stalled(0, 30.0))
        await h.settle()
        assert h.manager.health().upstream == StreamState.STALLED
        await h.advance(GRACE - 0.01)
        assert h.mode() == "streaming"
        await h.advance(0.01)
        assert h.mode() == "polling"
        failover = h.rec.statuses[-1][1]
        assert "stall" in failover.reason
        assert failover.upstream == StreamState.STALLED

        h.stream.event(Disconnected(0, "stalled: no frame for 30.00 s"))
        h.stream.event(Reconnecting(0, 1, 0.5, "stalled"))
        h.stream.event(Connected(0, "ws://scripted", 1))
        await h.settle()
        assert h.manager.health().upstream == StreamState.RECOVERING
        await h.advance(3 * HYSTERESIS)
        assert h.mode() == "polling"  # connected is not proven: no quote yet

        h.stream.send(_quote(h, "AAPL"))
        await h.settle()
        assert h.manager.health().upstream == StreamState.HEALTHY
        await h.advance(HYSTERESIS - 0.01)
        assert h.mode() == "polling"
        await h.advance(0.01)
        assert h.mode() == "streaming"
        assert h.rec.modes() == ["idle", "streaming", "polling", "streaming"]
        assert (h.manager.stats().transitions) == {
            "idle->streaming": 1,
            "streaming->polling": 1,
            "polling->streaming": 1,
        }


@pytest.mark.anyio
async def test_a_short_stall_and_a_flapping_recovery_do_not_bounce_the_mode(make_harness) -> None:
    """Recovered within the grace: no failover. A new stall inside the hysteresis window
    restarts it: no return to STREAMING until the stream stays healthy long enough."""
    h = make_harness(ny(2026, 11, 27, 10, 0), settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("c1", ["AAPL"])
        await h.settle()
        h.stream.event(Stalled(0, 30.0))
        await h.advance(GRACE / 2)
        h.stream.event(Connected(0, "ws://scripted", 1))
        h.stream.send(_quote(h, "AAPL"))
        await h.advance(GRACE * 3)
        assert h.mode() == "streaming"

        h.stream.event(Stalled(0, 30.0))
        await h.advance(GRACE)
        assert h.mode() == "polling"
        for _ in range(3):  # flaps: healthy for less than the hysteresis, then stalls again
            h.stream.event(Connected(0, "ws://scripted", 1))
            h.stream.send(_quote(h, "AAPL"))
            await h.advance(HYSTERESIS / 2)
            h.stream.event(Stalled(0, 30.0))
            await h.advance(1.0)
        assert h.mode() == "polling"
        assert h.rec.modes() == ["idle", "streaming", "polling"]


@pytest.mark.anyio
async def test_a_stream_that_never_comes_up_fails_over_after_the_grace(make_harness) -> None:
    """Entering STREAMING starts the grace clock; no connection within it → POLLING."""
    h = make_harness(ny(2026, 11, 27, 10, 0), settings=SETTINGS)
    h.stream.silent = True
    async with h.running():
        h.manager.subscribe("c1", ["AAPL"])
        await h.settle()
        assert h.mode() == "streaming"
        await h.advance(GRACE - 0.01)
        assert h.mode() == "streaming"
        await h.advance(0.01)
        assert h.mode() == "polling"


@pytest.mark.anyio
async def test_each_transition_is_logged_once_with_its_reason(make_harness, log_lines) -> None:
    """One log line per transition, naming both modes and the reason."""
    h = make_harness(ny(2026, 11, 27, 10, 0), settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("c1", ["AAPL"])
        await h.settle()
        h.stream.event(Stalled(0, 30.0))
        await h.advance(GRACE)
        h.manager.unsubscribe("c1", ["AAPL"])
        await h.advance(SETTINGS.linger)
        assert h.mode() == "idle"
    lines = [line for line in log_lines if line.startswith("upstream mode")]
    assert len(lines) == 3
    assert lines[0].startswith("upstream mode idle → streaming: market open")
    assert lines[1].startswith("upstream mode streaming → polling: stream down or stalled")
    assert lines[2].startswith("upstream mode polling → idle: no symbols")


@pytest.mark.anyio
async def test_the_demo_calendar_streams_on_a_holiday(make_harness) -> None:
    """With the always-open calendar an equity streams on Thanksgiving, session REGULAR."""
    h = make_harness(ny(2026, 11, 26, 3, 0), calendar=ALWAYS_OPEN, settings=SETTINGS)
    async with h.running():
        h.manager.subscribe("c1", ["AAPL"])
        await h.settle()
        assert h.mode() == "streaming"
        assert h.manager.status().market == MarketSession.REGULAR


def _quote(h, symbol: str) -> Quote:
    """A stream quote stamped with the harness's clock."""
    now_us = int(h.clock.time() * 1_000_000)
    return Quote(symbol=symbol, price=101.0, ts_upstream=now_us, ts_library_in=now_us)
