"""`restream --demo` as a real process: the printed URL, the feed, and the HTTP endpoints."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import (
    RestreamProcess,
    is_type,
    next_json,
    now_us,
    open_client,
    send_json,
    wait_for,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SYMBOLS = ["AAPL", "BTC-USD"]


def _check_times(message: dict[str, Any], received_us: int) -> None:
    assert message["ts_upstream"] <= message["ts_library_in"], message
    assert message["ts_library_in"] <= message["ts_library_out"], message
    assert message["ts_library_out"] <= received_us, message


async def _warm(url: str) -> None:
    """Subscribe once and wait for a quote of every symbol, so restream knows their values."""
    async with await open_client(url) as ws:
        await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS})
        seen: set[str] = set()
        while seen != set(SYMBOLS):
            message = await wait_for(ws, is_type("quote"))
            seen.add(message["symbol"])


async def test_demo_prints_url_and_feeds_snapshot_then_quotes(demo: RestreamProcess) -> None:
    """A client subscribing AAPL and BTC-USD gets status, ack, a snapshot each, then quotes
    whose timestamps are ordered up to the client's own receive time."""
    assert demo.url == f"http://127.0.0.1:{demo.port}/"
    await _warm(demo.ws_url)
    async with await open_client(demo.ws_url) as ws:
        assert (await next_json(ws))["type"] == "status"
        await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS, "id": "s1"})
        ack = await wait_for(ws, is_type("subscribed"))
        assert ack == {"type": "subscribed", "symbols": SYMBOLS, "id": "s1"}
        snapshots: dict[str, dict[str, Any]] = {}
        quotes: dict[str, dict[str, Any]] = {}
        while len(quotes) < len(SYMBOLS) or len(snapshots) < len(SYMBOLS):
            message = await next_json(ws)
            received = now_us()
            if message["type"] == "snapshot":
                assert message["symbol"] not in quotes, "snapshot must come before quotes"
                snapshots[message["symbol"]] = message
                _check_times(message, received)
            elif message["type"] == "quote":
                assert message["symbol"] in snapshots, "a quote came before the snapshot"
                quotes.setdefault(message["symbol"], message)
                _check_times(message, received)
        for message in quotes.values():
            assert message["source"] == "stream"
            assert isinstance(message["price"], float | int)
        btc = quotes["BTC-USD"]
        assert btc["quote_type"] == "CRYPTOCURRENCY"
        assert btc["currency"] == "USD"


async def test_ping_unsubscribe_and_fear_greed(demo: RestreamProcess) -> None:
    """Pong echoes the id; `@fear_greed` delivers an indicator (a later subscriber gets it
    as a snapshot); unsubscribe is acknowledged, a symbol not held is `not_subscribed`."""
    async with await open_client(demo.ws_url) as ws:
        await send_json(ws, {"op": "ping", "id": 42})
        pong = await wait_for(ws, is_type("pong"))
        assert pong["id"] == 42
        await send_json(ws, {"op": "subscribe", "symbols": ["@fear_greed"]})
        indicator = await wait_for(ws, is_type("indicator"), within=15)
        assert indicator["name"] == "fear_greed"
        assert 0 <= indicator["score"] <= 100
        assert indicator["ts_library_in"] <= indicator["ts_library_out"]
        async with await open_client(demo.ws_url) as late:
            await send_json(late, {"op": "subscribe", "symbols": ["@FEAR_GREED"]})
            snapshot = await wait_for(late, is_type("indicator"))
            assert (snapshot["name"], snapshot["snapshot"]) == ("fear_greed", True)
        await send_json(ws, {"op": "unsubscribe", "symbols": ["@fear_greed", "MSFT"], "id": 2})
        ack = await wait_for(ws, is_type("unsubscribed"))
        assert ack == {"type": "unsubscribed", "symbols": ["@fear_greed"], "id": 2}
        error = await wait_for(ws, is_type("error"))
        assert (error["code"], error["id"]) == ("not_subscribed", 2)
        assert [s["symbol"] for s in error["symbols"]] == ["MSFT"]


async def test_health_metrics_snapshot(demo: RestreamProcess) -> None:
    """/health is JSON, /metrics parses and its counters move, /snapshot has last values."""
    await _warm(demo.ws_url)
    async with httpx.AsyncClient(base_url=demo.url, timeout=10) as http:
        health = (await http.get("/health")).json()
        assert health["status"] in ("ok", "degraded")
        assert health["mode"] in ("streaming", "polling", "idle")
        assert health["market"] == "regular"
        for key in ("upstream", "clients", "symbols", "uptime_s"):
            assert key in health

        def counters(text: str) -> dict[str, float]:
            values: dict[str, float] = {}
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    values[f"{sample.name}{{{labels}}}"] = sample.value
            return values

        first = await http.get("/metrics")
        assert first.headers["content-type"].startswith("text/plain")
        before = counters(first.text)
        async with await open_client(demo.ws_url) as ws:
            await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS})
            for _ in range(3):
                await wait_for(ws, is_type("quote"))
        after = counters((await http.get("/metrics")).text)
        for name in (
            "restream_quotes_in_total{source=stream}",
            "restream_deliveries_total{}",
            "restream_encodes_total{}",
            "restream_connections_total{}",
        ):
            assert after[name] > before[name], name
        assert "restream_latency_in_to_out_seconds_count{}" in after
        assert "restream_clients{priority=normal}" in after

        snapshot = (
            await http.get("/snapshot", params={"symbols": "AAPL,BTC-USD,NOPE,bad sym"})
        ).json()
        assert {"AAPL", "BTC-USD"} == set(snapshot["quotes"])
        assert snapshot["quotes"]["AAPL"]["type"] == "snapshot"
        assert snapshot["missing"] == ["NOPE"]
        assert snapshot["rejected"][0]["symbol"] == "bad sym"
        assert (await http.get("/nope")).status_code == 404
        assert (await http.post("/health")).status_code == 405
        assert (await http.get("/")).status_code == 200
