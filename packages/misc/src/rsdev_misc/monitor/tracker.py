"""Outage bookkeeping around the state machine: when an outage began, ended, how long it lasted.

Sans-I/O: each probe result comes in with the `Instant` it was taken; the tracker answers
with what happened (`Observation`). It never reads a clock or logs.

Timing rules:

- An outage *starts* at the first failed probe of the streak that led to DOWN; it really
  began somewhere between the last good probe and that one (`start_bound_s`, about one
  interval; unknown when no good probe was ever seen).
- It *ends* at the first good probe of the streak that led back to UP; it really ended
  between the last failed probe and that one (`end_bound_s`).
- `duration_s` is measured on the monotonic clock. The true downtime lies within
  `duration_s - end_bound_s` … `duration_s + start_bound_s`; `error_bound_s` is the larger
  of the two bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rsdev_misc.monitor.clock import Instant
from rsdev_misc.monitor.states import State, StateMachine, Step

__all__ = ["ClosedOutage", "Observation", "OpenOutage", "Tracker"]


@dataclass(frozen=True, slots=True)
class OpenOutage:
    """An outage in progress (the service is DOWN)."""

    start: Instant  # first failed probe of the streak
    start_bound_s: float | None  # first failed probe − last good probe; None if never good
    declared: Instant  # when the threshold was reached and DOWN announced
    failed_probes: int
    last_error: str | None
    failure: str | None  # FailureKind value of the last failed probe
    restored: bool = False  # continued from a state file after a restart

    def elapsed_s(self, now: Instant) -> float:
        return max(0.0, now.mono - self.start.mono)


@dataclass(frozen=True, slots=True)
class ClosedOutage:
    """A finished outage, ready for the log and the outage file."""

    start_wall: float
    end_wall: float
    duration_s: float
    start_bound_s: float | None
    end_bound_s: float
    failed_probes: int
    last_error: str | None
    failure: str | None
    restored: bool

    @property
    def error_bound_s(self) -> float | None:
        """How far `duration_s` may be from the true downtime (None: start unknown)."""
        if self.start_bound_s is None:
            return None
        return max(self.start_bound_s, self.end_bound_s)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one probe result did."""

    step: Step
    opened: OpenOutage | None = None  # this probe made the service DOWN
    closed: ClosedOutage | None = None  # this probe made it UP again after an outage


class Tracker:
    """Feeds results to a `StateMachine` and keeps the outage times and totals."""

    def __init__(
        self,
        *,
        fail_after: int = 3,
        recover_after: int = 2,
        remind_every: float | None = None,
    ) -> None:
        self.machine = StateMachine(fail_after=fail_after, recover_after=recover_after)
        self.remind_every = remind_every if remind_every and remind_every > 0 else None
        self.outage: OpenOutage | None = None
        self.last_good: Instant | None = None
        self.last_bad: Instant | None = None
        self._streak_start: Instant | None = None  # first failure of the current streak
        self._streak_bound: float | None = None
        self._recovery_start: Instant | None = None  # first success while DOWN
        self._recovery_bound = 0.0
        self._last_alert_mono = 0.0
        # totals of closed outages, for metrics and the exit summary
        self.outages = 0
        self.downtime_closed_s = 0.0
        self.longest_s = 0.0

    @property
    def state(self) -> State:
        return self.machine.state

    def observe(
        self, ok: bool, at: Instant, *, error: str | None = None, failure: str | None = None
    ) -> Observation:
        """Apply one probe result taken at `at`."""
        if ok:
            return self._good(at)
        return self._bad(at, error, failure)

    def _good(self, at: Instant) -> Observation:
        if self.machine.state is State.DOWN and self._recovery_start is None:
            self._recovery_start = at
            self._recovery_bound = at.mono - self.last_bad.mono if self.last_bad else 0.0
        step = self.machine.feed(True)
        self.last_good = at
        self._streak_start = None
        closed = None
        if step.changed and step.state is State.UP and self.outage is not None:
            closed = self._close(self.outage, self._recovery_start or at)
            self.outage = None
        if step.state is not State.DOWN:
            self._recovery_start = None
        return Observation(step, closed=closed)

    def _bad(self, at: Instant, error: str | None, failure: str | None) -> Observation:
        if self._streak_start is None:
            self._streak_start = at
            self._streak_bound = at.mono - self.last_good.mono if self.last_good else None
        step = self.machine.feed(False)
        self.last_bad = at
        self._recovery_start = None
        opened = None
        if self.outage is not None:
            self.outage = replace(
                self.outage,
                failed_probes=self.outage.failed_probes + 1,
                last_error=error,
                failure=failure,
            )
        elif step.state is State.DOWN:
            opened = self.outage = OpenOutage(
                start=self._streak_start,
                start_bound_s=self._streak_bound,
                declared=at,
                failed_probes=step.consecutive_failures,
                last_error=error,
                failure=failure,
            )
            self._last_alert_mono = at.mono
        return Observation(step, opened=opened)

    def _close(self, outage: OpenOutage, end: Instant) -> ClosedOutage:
        duration = max(0.0, end.mono - outage.start.mono)
        self.outages += 1
        self.downtime_closed_s += duration
        self.longest_s = max(self.longest_s, duration)
        return ClosedOutage(
            start_wall=outage.start.wall,
            end_wall=end.wall,
            duration_s=duration,
            start_bound_s=outage.start_bound_s,
            end_bound_s=self._recovery_bound,
            failed_probes=outage.failed_probes,
            last_error=outage.last_error,
            failure=outage.failure,
            restored=outage.restored,
        )

    def reminder_due(self, now: Instant) -> OpenOutage | None:
        """The open outage if a reminder is due at `now` (and restart the reminder timer)."""
        if self.outage is None or self.remind_every is None:
            return None
        if now.mono - self._last_alert_mono < self.remind_every:
            return None
        self._last_alert_mono = now.mono
        return self.outage

    def downtime_s(self, now: Instant) -> float:
        """Total downtime: closed outages plus the open one so far."""
        open_s = self.outage.elapsed_s(now) if self.outage is not None else 0.0
        return self.downtime_closed_s + open_s

    def restore(self, outage: OpenOutage, *, last_bad_wall: float | None, now: Instant) -> None:
        """Continue an outage saved before a restart: DOWN, its start preserved.

        The monotonic clock does not carry across processes (or boots), so the saved wall
        times are re-anchored on the current monotonic clock: time before the restart is
        measured by the wall clock.
        """

        def anchored(wall: float) -> Instant:
            return Instant(now.mono - (now.wall - wall), wall)

        self.outage = replace(
            outage,
            start=anchored(outage.start.wall),
            declared=anchored(outage.declared.wall),
            restored=True,
        )
        self.machine.state = State.DOWN
        self.machine.consecutive_failures = 0
        self.machine.consecutive_successes = 0
        self.last_bad = anchored(last_bad_wall) if last_bad_wall is not None else None
        self._last_alert_mono = now.mono
