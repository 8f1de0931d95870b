"""The manager's client API, queries and reports, on a manual clock with a scripted stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.upstream_manager import FEAR_GREED, ManagerSettings, UpstreamMode

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.mark.anyio
async def test_subscribe_routes_market_symbols_upstream_and_reports_rejections(
    make_harness,
) -> None:
    """Valid market symbols go to the stream once, `@fear_greed` never does, invalid names
    come back with a reason code for the client's error frame."""
    h = make_harness(START, calendar=ALWAYS_OPEN)
    async with h.running():
        change = h.manager.subscribe("c1", [" aapl ", "no spaces", FEAR_GREED, "@nope", 7])
        assert change.added == ("AAPL", FEAR_GREED)
        assert change.upstream_subscribe == ("AAPL", FEAR_GREED)
        reasons = {r.symbol: r.reason for r in change.rejected}
        assert (reasons) == {
            "no spaces": "bad_character",
            "@nope": "unknown_indicator",
            "7": "not_a_string",
        }
        await h.settle()
        assert h.stream.calls == [("add", ("AAPL",))]
        h.manager.subscribe("c2", ["AAPL"])
        change = h.manager.unsubscribe("c2", ["KO"])
        assert [(r.reason, r.symbol) for r in change.rejected] == [("not_subscribed", "KO")]
        assert h.stream.calls == [("add", ("AAPL",))]
        assert {"c1", "c2"} == set(h.manager.subscribers("AAPL"))


@pytest.mark.anyio
async def test_a_reclaimed_lingering_slot_is_unsubscribed_before_the_new_symbol(
    make_harness,
) -> None:
    """At the global limit a lingering symbol gives its slot back: remove, then add."""
    h = make_harness(START, calendar=ALWAYS_OPEN, settings=ManagerSettings(global_limit=2))
    async with h.running():
        h.manager.subscribe("a", ["AAPL", "MSFT"])
        h.manager.unsubscribe("a", ["AAPL"])
        change = h.manager.subscribe("b", ["KO", "IBM"])
        assert change.upstream_unsubscribe == ("AAPL",)
        assert change.upstream_subscribe == ("KO",)
        assert [r.reason for r in change.rejected] == ["global_limit"]
        await h.settle()
        assert (h.stream.calls) == [
            ("add", ("AAPL", "MSFT")),
            ("remove", ("AAPL",)),
            ("add", ("KO",)),
        ]


@pytest.mark.anyio
async def test_quotes_reach_on_quote_and_the_cache_only_for_followed_symbols(
    make_harness, make_quote
) -> None:
    """A stream quote of a followed symbol is forwarded and cached; one for a symbol no
    longer followed (a late frame) is dropped and counted."""
    h = make_harness(START, calendar=ALWAYS_OPEN)
    async with h.running():
        h.manager.subscribe("a", ["AAPL"])
        await h.settle()
        snapshot = h.rec.quotes[-1][1]
        assert snapshot is h.manager.last_quote("AAPL")
        h.stream.send(make_quote("TSLA", 1.0, h.clock.time()))
        h.stream.send(make_quote("AAPL", 2.0, h.clock.time()))
        await h.settle()
        assert [q.price for _, q in h.rec.quotes] == [100.0, 2.0]
        assert h.manager.last_quote("TSLA") is None
        stats = h.manager.stats()
        assert (
            stats.quotes_in,
            stats.quotes_dropped,
        ) == ({"stream": 3, "poll": 0}, {"unwanted": 1})


@pytest.mark.anyio
async def test_health_and_status_describe_the_upstream(make_harness) -> None:
    """health() has mode, market, stream state, symbols and counts and is JSON-ready;
    status() is the last status sent with the stream's state now."""
    h = make_harness(START, calendar=ALWAYS_OPEN, settings=ManagerSettings(linger=30.0))
    async with h.running():
        h.manager.subscribe("a", ["AAPL", "MSFT"])
        h.manager.unsubscribe("a", ["MSFT"])
        await h.settle()
        await h.advance(2.0)
        health = h.manager.health().as_dict()
        assert json.loads(json.dumps(health)) == health
        assert health["mode"] == "streaming"
        assert health["market"] == "regular"
        assert health["market_open"] is True
        assert health["mode_age_s"] == 2.0
        assert {k: health["upstream"][k] for k in ("state", "shards", "connections")} == {
            "state": "healthy",
            "shards": {"0": "open"},
            "connections": 1,
        }
        assert health["upstream"]["last_quote_age_s"] == 2.0
        assert health["symbols"] == {"active": 1, "lingering": 1, "clients": 1}
        assert health["counts"]["upstream_subscribes"] == 2
        assert health["counts"]["transitions"] == {"idle->streaming": 1}
        sent, status = h.rec.statuses[-1][1], h.manager.status()
        assert (sent.mode, sent.reason, sent.at_us) == (status.mode, status.reason, status.at_us)
        assert sent.upstream.value == "stopped"  # when it was sent; status() says "healthy"
        assert {k: status.as_dict()[k] for k in ("mode", "market", "upstream")} == {
            "mode": "streaming",
            "market": "regular",
            "upstream": "healthy",
        }


@pytest.mark.anyio
async def test_subscriptions_before_run_are_applied_and_run_runs_once(make_harness) -> None:
    """Subscribing before `run` works (the stream is told before it starts); a second
    `run` is refused."""
    h = make_harness(START, calendar=ALWAYS_OPEN)
    h.manager.subscribe("a", ["AAPL"])
    assert h.manager.mode == UpstreamMode.STREAMING
    assert h.stream.calls == [("add", ("AAPL",))]
    async with h.running():
        assert [s.reason for _, s in h.rec.statuses] == ["market open", "started"]
        with pytest.raises(RuntimeError):
            await h.manager.run()
