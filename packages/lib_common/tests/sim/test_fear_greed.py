"""The simulated Fear & Greed index (no sockets): shape, ratings, slow walk, date filter."""

from __future__ import annotations

from datetime import date

from lib_common.sim.clock import ManualClock
from lib_common.sim.fear_greed import COMPONENTS, FearGreed, rating


def test_ratings_follow_cnn_bands() -> None:
    """Scores map to CNN's five lowercase ratings."""
    assert [rating(s) for s in (10, 30, 50, 60, 90)] == [
        "extreme fear",
        "fear",
        "neutral",
        "greed",
        "extreme greed",
    ]


def test_payload_shape() -> None:
    """The body has the current value, its history, and nine component series."""
    body = FearGreed(1, ManualClock()).payload()
    current = body["fear_and_greed"]
    assert set(current) == {
        "score",
        "rating",
        "timestamp",
        "previous_close",
        "previous_1_week",
        "previous_1_month",
        "previous_1_year",
    }
    assert current["timestamp"] == "2025-10-30T16:00:00+00:00"
    assert current["rating"] == rating(current["score"])
    history = body["fear_and_greed_historical"]
    assert history["data"][-1]["y"] == current["score"]
    assert all(set(p) == {"x", "y", "rating"} for p in history["data"])
    for name in COMPONENTS:
        assert set(body[name]) == {"timestamp", "score", "rating", "data"}
        assert len(body[name]["data"]) > 300


def test_score_walks_slowly_with_the_clock() -> None:
    """The score holds still without time passing and moves a little per simulated hour."""
    clock = ManualClock()
    index = FearGreed(1, clock)
    first = index.score
    assert index.score == first
    clock.advance(3600)
    moved = index.score
    assert moved != first
    assert abs(moved - first) < 15


def test_same_seed_same_index() -> None:
    """The index is deterministic per seed."""
    assert FearGreed(5, ManualClock()).payload() == FearGreed(5, ManualClock()).payload()


def test_since_limits_history() -> None:
    """The dated form returns history from that date on."""
    body = FearGreed(1, ManualClock()).payload(since=date(2025, 10, 1))
    xs = [p["x"] for p in body["fear_and_greed_historical"]["data"]]
    assert min(xs) == 1759276800000.0  # 2025-10-01 00:00 UTC
    assert len(xs) == 29 + 1  # the closes of Oct 1-29, then today's live value
