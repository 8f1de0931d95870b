"""One stream verdict from per-shard events (plain calls, no event loop)."""

from __future__ import annotations

from lib_common.core.stream_health import ShardState, StreamHealth, StreamState, Verdict
from lib_common.ingestors.yahoo.stream_events import (
    Connected,
    Disconnected,
    Reconnecting,
    ShardClosed,
    Stalled,
)


def _connected(shard: int) -> Connected:
    return Connected(shard, "ws://x", 1)


def test_a_fresh_connection_is_healthy_at_its_first_quote() -> None:
    """Connected alone is CONNECTING; the first quote makes it HEALTHY, said once."""
    health = StreamHealth()
    assert health.state == StreamState.STOPPED
    assert health.on_event(_connected(0)) is None
    assert health.state == StreamState.CONNECTING
    assert health.on_quote(0) == Verdict.HEALTHY
    assert health.on_quote(0) is None
    assert health.healthy
    assert health.state == StreamState.HEALTHY


def test_a_stalled_shard_recovers_only_with_data_after_reconnecting() -> None:
    """Stalled → bad; reconnected → RECOVERING (still bad); its first quote → HEALTHY."""
    health = StreamHealth()
    health.on_event(_connected(0))
    health.on_quote(0)
    assert health.on_event(Stalled(0, 30.0)) == Verdict.STALLED
    assert health.on_event(Disconnected(0, "stalled")) == Verdict.STALLED
    assert health.state == StreamState.STALLED  # the stall stays the story until reconnected
    assert health.on_event(Reconnecting(0, 1, 0.5, "stalled")) == Verdict.STALLED
    assert health.on_event(_connected(0)) is None
    assert health.state == StreamState.RECOVERING
    assert not health.healthy
    assert health.on_quote(0) == Verdict.HEALTHY
    assert health.shards() == {0: ShardState.OPEN}


def test_one_bad_shard_keeps_the_stream_unhealthy() -> None:
    """Quotes on a good shard do not hide a dropped one; its return (with data) does."""
    health = StreamHealth()
    for shard in (0, 1):
        health.on_event(_connected(shard))
    health.on_quote(0)
    assert health.on_event(Disconnected(1, "connection closed")) == Verdict.DOWN
    assert health.state == StreamState.DOWN
    assert health.on_quote(0) is None
    health.on_event(_connected(1))
    assert health.on_quote(0) is None  # shard 1 has not proven itself
    assert health.on_quote(1) == Verdict.HEALTHY
    assert (health.counts.disconnects, health.counts.connects - 2, 0) == (1, 1, 0)


def test_closing_shards_forgets_them_and_the_last_one_means_down() -> None:
    """An idle shard closing removes its badness; the last one leaves the stream STOPPED."""
    health = StreamHealth()
    for shard in (0, 1):
        health.on_event(_connected(shard))
    health.on_quote(0)
    health.on_event(Reconnecting(1, 1, 0.1, "connect failed"))
    assert health.on_event(ShardClosed(1, "idle")) == Verdict.HEALTHY
    assert health.on_event(ShardClosed(0, "idle")) == Verdict.DOWN
    assert health.state == StreamState.STOPPED
    assert not health.healthy


def test_a_quote_from_the_failed_connection_does_not_prove_the_new_one() -> None:
    """Quotes and status travel apart: a quote the stalled socket read before it failed,
    handled after the new socket's Connected, leaves the shard RECOVERING; only a quote
    received on the new socket makes the stream HEALTHY."""
    health = StreamHealth()
    health.on_event(Connected(0, "ws://x", 1, at_us=1_000))
    assert health.on_quote(0, 1_500) == Verdict.HEALTHY
    health.on_event(Stalled(0, 0.4))
    health.on_event(Disconnected(0, "stalled"))
    health.on_event(Reconnecting(0, 1, 0.1, "stalled"))
    health.on_event(Connected(0, "ws://x", 1, at_us=3_000))
    assert health.on_quote(0, 1_900) is None  # read by the old socket, handled late
    assert health.state == StreamState.RECOVERING
    assert not health.healthy
    assert health.on_quote(0, 3_200) == Verdict.HEALTHY
    assert health.shards() == {0: ShardState.OPEN}
