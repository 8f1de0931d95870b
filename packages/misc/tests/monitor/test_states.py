"""The UP/PENDING/DOWN table and its debounce counters."""

from __future__ import annotations

import itertools

import pytest

from rsdev_misc.monitor import TABLE, Signal, State, StateMachine


def states(machine: StateMachine, results: str) -> list[State]:
    return [machine.feed(r == "+").state for r in results]


def test_table_is_complete() -> None:
    """Every (state, signal) pair has exactly one next state."""
    assert set(itertools.product(State, Signal)) == set(TABLE)


def test_first_failure_is_pending_not_down() -> None:
    """One failed probe moves UP to PENDING (no outage yet)."""
    assert states(StateMachine(), "-") == [State.PENDING]


def test_down_after_fail_after_consecutive_failures() -> None:
    """The N-th failure in a row makes it DOWN; more failures keep it DOWN."""
    assert states(StateMachine(fail_after=3), "----") == [
        State.PENDING,
        State.PENDING,
        State.DOWN,
        State.DOWN,
    ]


def test_up_after_recover_after_consecutive_successes() -> None:
    """DOWN needs M good probes in a row before UP."""
    m = StateMachine(fail_after=1, recover_after=2)
    assert states(m, "-+++") == [State.DOWN, State.DOWN, State.UP, State.UP]


def test_pending_recovers_at_once() -> None:
    """A success in PENDING returns straight to UP (nothing was announced)."""
    m = StateMachine(fail_after=3, recover_after=5)
    assert states(m, "--+") == [State.PENDING, State.PENDING, State.UP]
    assert m.consecutive_failures == 0


def test_flapping_while_up_never_goes_down() -> None:
    """Failures that are never N in a row never make it DOWN."""
    m = StateMachine(fail_after=3)
    assert State.DOWN not in states(m, "--+--+-+--+" * 3)


def test_flapping_while_down_stays_down() -> None:
    """Alternating results while DOWN never reach M successes in a row."""
    m = StateMachine(fail_after=1, recover_after=2)
    assert {State.DOWN} == set(states(m, "-+-+-+-"))
    assert states(m, "++") == [State.DOWN, State.UP]


def test_fail_after_one_goes_down_directly() -> None:
    """With --fail-after 1, UP goes to DOWN without PENDING."""
    step = StateMachine(fail_after=1).feed(False)
    assert (step.previous, step.state, step.changed) == (State.UP, State.DOWN, True)


def test_thresholds_must_be_positive() -> None:
    """A threshold of 0 is refused."""
    with pytest.raises(ValueError):
        StateMachine(fail_after=0)
