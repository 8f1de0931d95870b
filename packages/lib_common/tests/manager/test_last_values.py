"""Which quotes the last-value cache takes and forwards (plain calls, no event loop)."""

from __future__ import annotations

from datetime import UTC, datetime

from lib_common.core.last_values import LastValues
from lib_common.ingestors.cnn.model import FearGreed, Rating

T = 1_764_255_600.0  # 2025-11-27 15:00 UTC


def test_stream_quotes_are_taken_unless_strictly_older(make_quote) -> None:
    """Same or newer time: taken; older (a reconnect's stale snapshot): refused."""
    values = LastValues()
    assert values.accept_stream(make_quote("AAPL", 1.0, T))
    assert values.accept_stream(make_quote("AAPL", 1.0, T))
    assert values.accept_stream(make_quote("AAPL", 2.0, T + 0.5))
    assert not values.accept_stream(make_quote("AAPL", 3.0, T + 0.2))
    assert values.quote("AAPL").price == 2.0


def test_a_poll_of_the_same_second_as_the_stream_is_taken_once(make_quote) -> None:
    """REST's whole-second time does not lose to the stream's milliseconds; an identical
    repeat poll is refused, a moved price or a newer time is taken."""
    values = LastValues()
    values.accept_stream(make_quote("AAPL", 1.0, T + 0.75))
    first = make_quote("AAPL", 1.0, T, source="poll")
    assert values.accept_poll(first)
    assert values.quote("AAPL") is first
    assert not values.accept_poll(make_quote("AAPL", 1.0, T, source="poll"))
    assert values.accept_poll(make_quote("AAPL", 1.5, T, source="poll"))
    assert values.accept_poll(make_quote("AAPL", 1.5, T + 1, source="poll"))


def test_a_poll_older_than_the_streams_second_is_refused(make_quote) -> None:
    """A poll from before the stream's current second adds nothing."""
    values = LastValues()
    values.accept_stream(make_quote("AAPL", 1.0, T + 2.5))
    assert not values.accept_poll(make_quote("AAPL", 0.9, T + 1, source="poll"))
    assert values.quote("AAPL").source == "stream"


def test_forget_drops_quotes_and_indicators_are_kept_by_bare_name(make_quote) -> None:
    """Forgotten symbols read None; `@fear_greed` and `fear_greed` name the same value."""
    values = LastValues()
    values.accept_stream(make_quote("AAPL", 1.0, T))
    values.accept_stream(make_quote("KO", 1.0, T))
    values.forget(["AAPL", "NOPE"])
    assert values.quote("AAPL") is None
    assert len(values) == 1
    index = FearGreed(score=42.0, rating=Rating.FEAR, timestamp=datetime.fromtimestamp(T, UTC))
    values.set_indicator("@fear_greed", index)
    assert values.indicator("fear_greed") is index
    assert values.indicator("@fear_greed") is index
    assert values.indicator("@other") is None
