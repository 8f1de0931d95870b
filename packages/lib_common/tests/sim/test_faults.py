"""Fault validation and the fault book's lifetimes (no sockets)."""

from __future__ import annotations

import pytest

from lib_common.sim import Fault
from lib_common.sim.faults import HTTP_KINDS, FaultBook


def test_from_json_builds_a_fault() -> None:
    """The control API's JSON becomes a Fault with its options."""
    fault = Fault.from_json({"kind": "garbage", "count": 100, "variant": "bad_base64"})
    assert fault == Fault("garbage", count=100, variant="bad_base64")
    assert fault.targets == frozenset({"ws"})


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "meltdown"},
        {"kind": "stall", "duration": 0},
        {"kind": "stall", "count": 0},
        {"kind": "slow"},
        {"kind": "slow", "delay": 1, "rate": 2},
        {"kind": "429", "target": "ws"},
        {"kind": "stall", "target": "rest"},
        {"kind": "garbage", "variant": "nope"},
        {"kind": "stall", "surprise": 1},
        {"kind": "stall", "duration": "5"},
        {"duration": 5},
        ["stall"],
    ],
)
def test_invalid_faults_are_refused(data: object) -> None:
    """Unknown kinds, bad lifetimes, mismatched targets and unknown fields raise ValueError."""
    with pytest.raises(ValueError):
        Fault.from_json(data)


def test_http_kinds_default_to_both_http_targets() -> None:
    """A 429 without a target applies to the chart REST and to CNN."""
    assert Fault("429").targets == frozenset({"rest", "cnn"})
    assert Fault("429", target="cnn").targets == frozenset({"cnn"})


def test_count_is_used_up() -> None:
    """A fault with a count applies that many times, then is gone."""
    book = FaultBook()
    book.inject(Fault("500", count=2), now=0.0)
    assert book.take(HTTP_KINDS, "rest", 0.0) is not None
    assert book.take(HTTP_KINDS, "cnn", 0.0) is not None
    assert book.take(HTTP_KINDS, "rest", 0.0) is None
    assert book.active(0.0) == []


def test_duration_expires_on_the_given_clock() -> None:
    """A fault with a duration applies until its end time, judged by the time passed in."""
    book = FaultBook()
    book.inject(Fault("stall", duration=5), now=100.0)
    assert book.find(frozenset({"stall"}), "ws", 104.9) is not None
    assert book.find(frozenset({"stall"}), "ws", 105.0) is None


def test_target_filters() -> None:
    """A fault aimed at CNN does not touch the chart REST."""
    book = FaultBook()
    book.inject(Fault("418", target="cnn"), now=0.0)
    assert book.find(HTTP_KINDS, "rest", 0.0) is None
    assert book.find(HTTP_KINDS, "cnn", 0.0) is not None


def test_clear_drops_everything() -> None:
    """clear() ends all faults and says how many there were."""
    book = FaultBook()
    book.inject(Fault("stall"), now=0.0)
    book.inject(Fault("hang"), now=0.0)
    assert book.clear() == 2
    assert len(book) == 0


def test_to_json_reports_remaining_and_expiry() -> None:
    """The JSON view shows kind, targets, what is left and when it ends."""
    book = FaultBook()
    active = book.inject(Fault("429", count=3, duration=10, retry_after=2), now=0.0)
    view = active.to_json(now=4.0)
    assert view["kind"] == "429"
    assert view["remaining"] == 3
    assert view["expires_in"] == 6.0
    assert view["retry_after"] == 2
