"""Outage times from injected instants: start, end, duration, error bounds, reminders."""

from __future__ import annotations

from rsdev_misc.monitor import Instant, State, Tracker

T0 = 1_700_000_000.0


def at(t: float) -> Instant:
    """An instant `t` seconds after the start (monotonic and wall move together)."""
    return Instant(100.0 + t, T0 + t)


def feed(tracker: Tracker, results: str, *, start: float = 0.0, every: float = 10.0) -> list:
    return [
        tracker.observe(r == "+", at(start + i * every), error=None if r == "+" else "refused")
        for i, r in enumerate(results)
    ]


def test_outage_opens_at_threshold_with_first_failure_as_start() -> None:
    """DOWN is declared on the N-th failure; the outage starts at the first one."""
    t = Tracker(fail_after=3)
    obs = feed(t, "++---")
    opened = obs[4].opened
    assert opened is not None
    assert (at(20).wall, at(40).wall, 3) == (
        opened.start.wall,
        opened.declared.wall,
        opened.failed_probes,
    )
    assert opened.start_bound_s == 10.0  # began between t=10 (last good) and t=20


def test_outage_closes_with_duration_and_error_bound() -> None:
    """UP after M successes closes the outage at the first good probe of the streak."""
    t = Tracker(fail_after=2, recover_after=2)
    obs = feed(t, "+--+-++", every=10.0)
    closed = obs[6].closed
    assert closed is not None
    # failures at 10, 20, 40; the recovery streak starts at 50
    assert (at(10).wall, at(50).wall, 40.0) == (
        closed.start_wall,
        closed.end_wall,
        closed.duration_s,
    )
    assert (closed.start_bound_s, closed.end_bound_s, closed.error_bound_s) == (10.0, 10.0, 10.0)
    assert (t.outages, t.downtime_closed_s, t.longest_s) == (1, 40.0, 40.0)
    assert t.state == State.UP
    assert t.outage is None


def test_start_bound_unknown_without_a_good_probe() -> None:
    """An outage seen from the first probe on has no known start bound."""
    t = Tracker(fail_after=2)
    obs = feed(t, "--++")
    assert obs[1].opened is not None
    assert obs[1].opened.start_bound_s is None
    assert obs[3].closed is not None
    assert obs[3].closed.error_bound_s is None


def test_duration_uses_monotonic_clock_not_wall() -> None:
    """A wall-clock jump during an outage does not change its duration."""
    t = Tracker(fail_after=1, recover_after=1)
    t.observe(False, Instant(100.0, T0))
    closed = t.observe(True, Instant(130.0, T0 - 3600)).closed  # wall stepped back an hour
    assert closed is not None
    assert closed.duration_s == 30.0


def test_reminder_cadence() -> None:
    """With reminders every 10 min and a probe a minute, reminders come at 10, 20, 30 min."""
    t = Tracker(fail_after=1, remind_every=600.0)
    due = [m for m in range(35) if t.observe(False, at(m * 60)) and t.reminder_due(at(m * 60))]
    assert due == [10, 20, 30]


def test_no_reminder_when_disabled_or_up() -> None:
    """remind_every None never reminds; an UP target never reminds."""
    t = Tracker(fail_after=1, remind_every=None)
    t.observe(False, at(0))
    assert t.reminder_due(at(10_000)) is None
    up = Tracker(remind_every=1.0)
    up.observe(True, at(0))
    assert up.reminder_due(at(100)) is None


def test_downtime_includes_the_open_outage() -> None:
    """downtime_s counts closed outages plus the open one so far."""
    t = Tracker(fail_after=1, recover_after=1)
    feed(t, "-+-", every=10.0)  # closed 10 s; reopened at 20
    assert t.downtime_s(at(35)) == 10.0 + 15.0
