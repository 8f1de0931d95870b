"""The monitor state machine as a table (h11 style): UP / PENDING / DOWN, debounced.

Rules the table encodes:

- One failed probe is not an outage. A failure moves UP to PENDING (like Uptime Kuma's
  "pending": logged, never alerted); `fail_after` consecutive failures make it DOWN.
- A success in PENDING returns to UP at once: nothing was announced, nothing to revoke.
- DOWN needs `recover_after` consecutive successes to become UP again, so a service that
  flaps (good, bad, good, bad…) stays DOWN instead of alerting on every beat.
- Counters hold *consecutive* results: any success resets the failure count and vice versa.

The table is complete: every (state, signal) pair has exactly one next state. The machine is
sans-I/O: results in, transitions out; no clock, no logging.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["TABLE", "Signal", "State", "StateMachine", "Step"]


class State(enum.StrEnum):
    """Where a monitored service stands, as announced to the operator."""

    UP = "UP"
    PENDING = "PENDING"  # failing, but still within the retry budget: no alert yet
    DOWN = "DOWN"


class Signal(enum.StrEnum):
    """A probe result, already compared with the thresholds."""

    SUCCESS = "success"  # a good probe, fewer than `recover_after` in a row so far
    SUCCESSES_REACHED = "successes-reached"  # the `recover_after`-th good probe in a row (or more)
    FAILURE = "failure"  # a failed probe, fewer than `fail_after` in a row so far
    FAILURES_REACHED = "failures-reached"  # the `fail_after`-th failed probe in a row (or more)


_UP, _PENDING, _DOWN = State.UP, State.PENDING, State.DOWN

TABLE: Final[Mapping[tuple[State, Signal], State]] = {
    # good probes
    (_UP, Signal.SUCCESS): _UP,
    (_UP, Signal.SUCCESSES_REACHED): _UP,
    (_PENDING, Signal.SUCCESS): _UP,  # a blip within the retry budget, forgotten
    (_PENDING, Signal.SUCCESSES_REACHED): _UP,
    (_DOWN, Signal.SUCCESS): _DOWN,  # recovering: not yet `recover_after` in a row
    (_DOWN, Signal.SUCCESSES_REACHED): _UP,
    # failed probes
    (_UP, Signal.FAILURE): _PENDING,
    (_UP, Signal.FAILURES_REACHED): _DOWN,  # only with fail_after == 1
    (_PENDING, Signal.FAILURE): _PENDING,
    (_PENDING, Signal.FAILURES_REACHED): _DOWN,
    (_DOWN, Signal.FAILURE): _DOWN,
    (_DOWN, Signal.FAILURES_REACHED): _DOWN,
}


@dataclass(frozen=True, slots=True)
class Step:
    """What one probe result did to the machine."""

    previous: State
    state: State
    signal: Signal
    consecutive_failures: int
    consecutive_successes: int

    @property
    def changed(self) -> bool:
        return self.previous is not self.state


class StateMachine:
    """Feeds probe results (True = good) through `TABLE`, keeping the consecutive counts."""

    def __init__(
        self, *, fail_after: int = 3, recover_after: int = 2, state: State = State.UP
    ) -> None:
        if fail_after < 1 or recover_after < 1:
            raise ValueError("fail_after and recover_after must be at least 1")
        self.fail_after = fail_after
        self.recover_after = recover_after
        self.state = state
        self.consecutive_failures = 0
        self.consecutive_successes = 0

    def signal_for(self, ok: bool) -> Signal:
        """The signal a result would produce, given the counts so far (no state change)."""
        if ok:
            reached = self.consecutive_successes + 1 >= self.recover_after
            return Signal.SUCCESSES_REACHED if reached else Signal.SUCCESS
        reached = self.consecutive_failures + 1 >= self.fail_after
        return Signal.FAILURES_REACHED if reached else Signal.FAILURE

    def feed(self, ok: bool) -> Step:
        """Apply one probe result and return the step it caused."""
        signal = self.signal_for(ok)
        if ok:
            self.consecutive_successes += 1
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1
            self.consecutive_successes = 0
        previous, self.state = self.state, TABLE[(self.state, signal)]
        return Step(
            previous, self.state, signal, self.consecutive_failures, self.consecutive_successes
        )
