"""Yahoo control messages against a gateway in this event loop (real sockets, a simulator
upstream): subscriptions, snapshots, idempotent re-subscribes, no replies, abuse."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from lib_common.sim import SimConfig, run_simulator
from rsdev_servers.server_yahoo.formats import WireFormat

from .conftest import YahooClient, gateway_url, payload_of, poll_until, running_gateway

pytestmark = pytest.mark.anyio


async def test_resent_subscribe_list_is_harmless() -> None:
    """The whole list sent again (yfinance does it every 15 s): no upstream message, no
    second reference, no second snapshot."""
    async with (
        run_simulator(SimConfig(rate=0, seed=1)) as sim,  # snapshots only: frames countable
        running_gateway(sim, upstream_heartbeat=0) as gateway,
    ):
        first = await YahooClient.open(gateway_url(gateway))
        await first.subscribe(["BTC-USD"])
        await first.next_quote()  # the upstream's snapshot, forwarded
        second = await YahooClient.open(gateway_url(gateway, legacy=True))
        await second.subscribe(["BTC-USD"])
        snapshot = await second.next_quote()  # our last value, at once
        assert "BTC-USD" == snapshot.symbol
        assert payload_of(first.frames[0]) == payload_of(second.frames[0])
        for _ in range(3):
            await second.subscribe(["BTC-USD"])
            await first.subscribe(["BTC-USD"])
        await first.subscribe(["ETH-USD"])  # a marker: its frame comes after any duplicate
        await first.quotes_until(lambda q: q.symbol == "ETH-USD")
        assert ["BTC-USD", "ETH-USD"] == [q.symbol for q in first.quotes]
        assert {"BTC-USD": 1, "ETH-USD": 1} == sim.stats()["subscribe_counts"]
        assert 2 == gateway.manager.registry.refcount("BTC-USD")
        assert 6 == gateway.handler.counters.resubscribed
        with anyio.move_on_after(0.2):
            await second.next_quote()
            pytest.fail("a re-sent subscribe produced a frame")
        await first.aclose()
        await second.aclose()


async def test_unsubscribe_stops_frames_and_symbols_are_normalised() -> None:
    """Lower-case names mean the upper-case symbol; after unsubscribing one symbol only
    the other keeps coming; nothing is ever answered."""
    async with (
        run_simulator(SimConfig(rate=100, seed=2)) as sim,
        running_gateway(sim) as gateway,
    ):
        client = await YahooClient.open(gateway_url(gateway))
        await client.subscribe(["btc-usd", "ETH-USD"])
        await client.see_all({"BTC-USD", "ETH-USD"})
        await client.unsubscribe(["BTC-USD"])
        await client.subscribe(["SOL-USD"])  # a marker: its frames follow the unsubscribe
        await client.quotes_until(lambda q: q.symbol == "SOL-USD")
        start = len(client.quotes)
        for _ in range(10):
            await client.next_quote()
        assert {"ETH-USD", "SOL-USD"} == {q.symbol for q in client.quotes[start:]}
        assert frozenset({"ETH-USD", "SOL-USD"}) == gateway.manager.registry.symbols_of(1)
        await client.aclose()


async def test_symbols_over_the_client_limit_are_dropped_silently() -> None:
    """Like Yahoo's silent per-connection cap: the first N are served, the rest ignored."""
    async with (
        run_simulator(SimConfig(rate=100, seed=3)) as sim,
        running_gateway(sim, max_symbols_per_client=2) as gateway,
    ):
        client = await YahooClient.open(gateway_url(gateway))
        await client.subscribe(["BTC-USD", "ETH-USD", "SOL-USD"])
        await client.see_all({"BTC-USD", "ETH-USD"})
        for _ in range(10):
            await client.next_quote()
        assert {"BTC-USD", "ETH-USD"} == {q.symbol for q in client.quotes}
        assert 1 == gateway.handler.counters.ignored_symbols["client_limit"]
        await client.aclose()


async def test_persistent_junk_closes_with_1008() -> None:
    """A client that keeps sending malformed control messages is closed with 1008 once over
    its error budget; a well-behaved neighbour is untouched."""
    async with (
        run_simulator(SimConfig(rate=50, seed=4)) as sim,
        running_gateway(sim, max_errors=3) as gateway,
    ):
        good = await YahooClient.open(gateway_url(gateway))
        await good.subscribe(["BTC-USD"])
        await good.next_quote()
        bad = await YahooClient.open(gateway_url(gateway, legacy=True))
        for _ in range(3):
            await bad.ws.send("{oops")
        await bad.ws.send(json.dumps({"subscribe": ["BTC-USD"]}))
        await bad.next_quote()  # three errors are tolerated: still served
        await bad.ws.send("{oops")
        assert 1008 == await bad.close_code()
        await good.next_quote()
        assert 1 == gateway.hub.errors["abuse_closed"]
        assert 4 == gateway.handler.counters.invalid["json"]
        await poll_until(lambda: gateway.topics.clients(), lambda n: n == 1, within=5)
        assert {WireFormat.ENVELOPE: 1, WireFormat.LEGACY: 0} == (
            gateway.topics.clients_by_format()
        )
        await good.aclose()


async def test_linger_expiry_unsubscribes_upstream_once() -> None:
    """After the linger, the last client's symbol is unsubscribed upstream exactly once,
    and the other symbol keeps streaming."""
    async with (
        run_simulator(SimConfig(rate=50, seed=5)) as sim,
        running_gateway(sim, linger=0.2, upstream_heartbeat=0) as gateway,
    ):
        client = await YahooClient.open(gateway_url(gateway))
        await client.subscribe(["ETH-USD", "BTC-USD"])
        await client.see_all({"ETH-USD", "BTC-USD"})
        await client.unsubscribe(["ETH-USD"])

        def unsubscribed(stats: dict[str, Any]) -> bool:
            return "ETH-USD" in stats["unsubscribe_counts"]

        stats = await poll_until(sim.stats, unsubscribed, within=10)
        assert {"ETH-USD": 1} == stats["unsubscribe_counts"]
        assert {"BTC-USD": 1, "ETH-USD": 1} == stats["subscribe_counts"]
        await client.quotes_until(lambda q: q.symbol == "BTC-USD")
        assert 1 == gateway.fanout.cached_symbols()  # only BTC-USD's frames are kept
        await client.aclose()


async def test_malformed_control_is_ignored_without_reply() -> None:
    """Junk, wrong shapes and both keys at once get no reply (as on Yahoo); the connection
    stays open and keeps streaming; nothing of it reaches the upstream."""
    async with (
        run_simulator(SimConfig(rate=50, seed=6)) as sim,
        running_gateway(sim) as gateway,
    ):
        client = await YahooClient.open(gateway_url(gateway))
        await client.subscribe(["BTC-USD"])
        await client.next_quote()
        for junk in (
            "not json",
            "[1, 2]",
            json.dumps({"subscribe": "BTC-USD"}),
            json.dumps({"subscribe": ["ETH-USD"], "unsubscribe": ["BTC-USD"]}),
            json.dumps({"hello": "world"}),
            json.dumps({"subscribe": ["bad symbol!", "@fear_greed"]}),
            b"\xff\xfe",
        ):
            await client.ws.send(junk)
        # Still open and streaming; every frame is a quote of what was subscribed.
        for _ in range(5):
            assert "BTC-USD" == (await client.next_quote()).symbol
        counters = gateway.handler.counters
        assert {"json": 1, "shape": 3, "ambiguous": 1, "input": 1} == dict(counters.invalid)
        assert 2 == counters.ignored_symbols["not_a_symbol"]
        assert {"BTC-USD": 1} == sim.stats()["subscribe_counts"]
        assert 0 == sim.stats()["control_messages"].get("invalid", 0)
        metrics = gateway.metrics_body().decode()
        assert 'server_yahoo_invalid_control_messages_total{kind="ambiguous"} 1.0' in metrics
        await client.aclose()
