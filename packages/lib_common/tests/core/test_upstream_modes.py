"""Upstream mode machine: the table, the calendar, failover and recovery."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lib_common.core.market_hours import NEW_YORK
from lib_common.core.upstream_modes import (
    MODE_TABLE,
    ModeEvent,
    Transition,
    UpstreamMode,
    UpstreamModeMachine,
)

STREAMING, POLLING, IDLE = UpstreamMode.STREAMING, UpstreamMode.POLLING, UpstreamMode.IDLE


class World:
    """An injected clock (wall + monotonic move together) and a well-behaved I/O layer:
    the stream connects whenever the mode leaves IDLE and is dropped in IDLE."""

    def __init__(self, start: datetime, symbols: list[str]) -> None:
        self.wall = start
        self.now = 1000.0
        self.symbols = symbols
        self.machine = UpstreamModeMachine(grace=5.0, hysteresis=10.0)
        self.log: list[tuple[str, UpstreamMode, UpstreamMode]] = []

    def record(self, transition: Transition | None) -> None:
        if transition is None:
            return
        self.log.append((self.wall.strftime("%a %m-%d %H:%M"), transition.old, transition.new))
        if transition.new is IDLE:
            self.machine.stream_disconnected(self.now)
        elif transition.old is IDLE:
            self.machine.stream_connected(self.now)

    def step(self, delta: timedelta) -> None:
        self.wall += delta
        self.now += delta.total_seconds()
        self.record(self.machine.observe_market(self.symbols, self.wall, self.now))
        self.record(self.machine.poll(self.now))

    def run_until(self, end: datetime, every: timedelta = timedelta(minutes=15)) -> None:
        while self.wall < end:
            self.step(every)


def ny(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=NEW_YORK)


def test_table_covers_every_mode_and_event() -> None:
    """Each (mode, event) pair has exactly one entry: no implicit transitions."""
    assert set(MODE_TABLE) == {(m, e) for m in UpstreamMode for e in ModeEvent}


def test_table_rules() -> None:
    """Spot-check the stated rules of the table."""
    assert MODE_TABLE[(IDLE, ModeEvent.MARKET_OPEN)] is STREAMING
    assert MODE_TABLE[(STREAMING, ModeEvent.STREAM_DOWN_BEYOND_GRACE)] is POLLING
    assert MODE_TABLE[(POLLING, ModeEvent.STREAM_HEALTHY)] is STREAMING
    assert MODE_TABLE[(POLLING, ModeEvent.MARKET_OPEN)] is POLLING
    for mode in UpstreamMode:
        assert MODE_TABLE[(mode, ModeEvent.NO_SYMBOLS)] is IDLE
        assert MODE_TABLE[(mode, ModeEvent.MARKET_CLOSED)] is IDLE


def test_equity_modes_follow_thanksgiving_early_close_and_weekend() -> None:
    """AAPL: idle over Thanksgiving, streams 04:00–17:00 on the early-close Friday,
    idle over the weekend, streams again Monday 04:00."""
    world = World(ny(11, 25, 18), ["AAPL"])
    world.step(timedelta(0))
    world.run_until(ny(11, 30, 12))
    assert world.log == [
        ("Wed 11-25 18:00", IDLE, STREAMING),
        ("Wed 11-25 20:00", STREAMING, IDLE),
        ("Fri 11-27 04:00", IDLE, STREAMING),
        ("Fri 11-27 17:00", STREAMING, IDLE),
        ("Mon 11-30 04:00", IDLE, STREAMING),
    ]


def test_crypto_keeps_streaming_through_holidays_and_weekends() -> None:
    """With BTC-USD subscribed next to AAPL, the mode never leaves STREAMING."""
    world = World(ny(11, 25, 18), ["AAPL", "BTC-USD"])
    world.step(timedelta(0))
    world.run_until(ny(11, 30, 12), every=timedelta(hours=1))
    assert world.log == [("Wed 11-25 18:00", IDLE, STREAMING)]


def test_no_market_symbols_means_idle() -> None:
    """Nothing subscribed, or only indicators, keeps the upstream idle."""
    machine = UpstreamModeMachine()
    assert machine.observe_market([], ny(11, 24, 10), 0.0) is None
    assert machine.observe_market(["@fear_greed"], ny(11, 24, 10), 1.0) is None
    assert machine.mode is IDLE
    opened = machine.observe_market(["AAPL"], ny(11, 24, 10), 2.0)
    assert opened == Transition(IDLE, STREAMING, ModeEvent.MARKET_OPEN, "market open", 2.0)
    closed = machine.set_demand(has_symbols=False, market_open=True, now=3.0)
    assert closed is not None
    assert (closed.new, closed.event) == (IDLE, ModeEvent.NO_SYMBOLS)


def streaming(grace: float = 5.0, hysteresis: float = 10.0) -> UpstreamModeMachine:
    machine = UpstreamModeMachine(grace=grace, hysteresis=hysteresis)
    machine.set_demand(has_symbols=True, market_open=True, now=0.0)
    machine.stream_connected(0.0)
    assert machine.mode is STREAMING
    return machine


def test_stall_fails_over_to_polling_at_the_grace_period() -> None:
    """A stall at t=100 moves to POLLING at exactly t=105, not before."""
    machine = streaming(grace=5.0)
    assert machine.stream_stalled(100.0) is None
    assert machine.next_deadline() == 105.0
    assert machine.poll(104.999) is None
    transition = machine.poll(105.0)
    assert transition is not None
    assert (transition.old, transition.new) == (STREAMING, POLLING)
    assert transition.event is ModeEvent.STREAM_DOWN_BEYOND_GRACE
    assert "grace 5 s" in transition.reason
    assert machine.poll(200.0) is None  # logged once


def test_short_outage_within_grace_does_not_fail_over() -> None:
    """A disconnect that reconnects inside the grace period changes nothing."""
    machine = streaming(grace=5.0)
    machine.stream_disconnected(100.0)
    assert machine.stream_connected(103.0) is None
    assert machine.next_deadline() is None
    assert machine.poll(1000.0) is None
    assert machine.mode is STREAMING


def test_recovery_needs_the_full_hysteresis_period() -> None:
    """After failover, the stream must be healthy for 10 s uninterrupted to stream again."""
    machine = streaming(grace=5.0, hysteresis=10.0)
    machine.stream_disconnected(100.0)
    machine.poll(105.0)
    assert machine.mode is POLLING
    machine.stream_connected(110.0)
    machine.stream_stalled(115.0)  # flaps: the hysteresis clock restarts
    machine.stream_data(116.0)
    assert machine.poll(125.9) is None
    assert machine.next_deadline() == 126.0
    back = machine.poll(126.0)
    assert back is not None
    assert (back.old, back.new, back.event) == (POLLING, STREAMING, ModeEvent.STREAM_HEALTHY)
    assert "hysteresis 10 s" in back.reason


def test_stream_that_never_comes_up_fails_over_after_grace() -> None:
    """Leaving IDLE starts the grace clock until the stream connects."""
    machine = UpstreamModeMachine(grace=5.0)
    machine.set_demand(has_symbols=True, market_open=True, now=50.0)
    assert machine.next_deadline() == 55.0
    transition = machine.poll(55.0)
    assert transition is not None
    assert transition.new is POLLING


def test_market_close_while_polling_goes_idle_and_reopen_streams_afresh() -> None:
    """A failed stream is forgotten in IDLE; the next open tries the stream again."""
    machine = streaming()
    machine.stream_disconnected(10.0)
    machine.poll(15.0)
    closed = machine.set_demand(has_symbols=True, market_open=False, now=20.0)
    assert closed is not None
    assert (closed.old, closed.new) == (POLLING, IDLE)
    assert machine.next_deadline() is None
    reopened = machine.set_demand(has_symbols=True, market_open=True, now=30.0)
    assert reopened is not None
    assert reopened.new is STREAMING
    assert machine.next_deadline() == 35.0  # the stream is still down: grace restarts


def test_health_is_not_watched_while_idle() -> None:
    """Stalls and disconnects in IDLE produce nothing."""
    machine = UpstreamModeMachine()
    assert machine.stream_stalled(1.0) is None
    assert machine.poll(100.0) is None
    assert machine.mode is IDLE


def test_invalid_durations_are_refused() -> None:
    """Negative grace or hysteresis is a configuration error."""
    with pytest.raises(ValueError):
        UpstreamModeMachine(grace=-1.0)
