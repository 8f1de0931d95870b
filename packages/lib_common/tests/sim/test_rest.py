"""The simulated Yahoo chart REST and CNN Fear & Greed endpoints over loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from lib_common.ingestors.yahoo.codec import DecodeError, Skip
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import Fault, SimConfig, run_simulator
from lib_common.sim.fear_greed import COMPONENTS

Frame = Quote | Skip | DecodeError
RecvFrames = Callable[[ClientConnection, int], Awaitable[list[Frame]]]
Send = Callable[[ClientConnection, str, list[str]], Awaitable[None]]
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}


@pytest.mark.anyio
async def test_chart_shape() -> None:
    """The chart body has Yahoo's meta fields, epoch-second times and a cache header."""
    config = SimConfig(rate=0, clock=lambda: 1_761_840_000.0)  # Thu 2025-10-30 12:00 EDT
    async with run_simulator(config) as sim, httpx.AsyncClient() as client:
        response = await client.get(sim.chart_url("AAPL"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=10"
    chart = response.json()["chart"]
    assert chart["error"] is None
    meta = chart["result"][0]["meta"]
    assert meta["symbol"] == "AAPL"
    assert (meta["currency"], meta["exchangeName"], meta["instrumentType"]) == (
        "USD",
        "NMS",
        "EQUITY",
    )
    assert meta["regularMarketTime"] == 1_761_840_000
    assert meta["priceHint"] == 2
    assert meta["previousClose"] == meta["chartPreviousClose"]
    for key in ("regularMarketPrice", "regularMarketDayHigh", "regularMarketDayLow"):
        assert isinstance(meta[key], float)
    assert isinstance(meta["regularMarketVolume"], int)
    regular = meta["currentTradingPeriod"]["regular"]
    assert regular == {
        "timezone": "EDT",
        "start": 1_761_831_000,  # 09:30 EDT
        "end": 1_761_854_400,  # 16:00 EDT
        "gmtoffset": -14400,
    }
    assert set(meta["currentTradingPeriod"]) == {"pre", "regular", "post"}


@pytest.mark.anyio
async def test_chart_crypto_meta() -> None:
    """Crypto charts say CRYPTOCURRENCY on CCC."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        meta = (await client.get(sim.chart_url("BTC-USD"))).json()["chart"]["result"][0]["meta"]
    assert (meta["instrumentType"], meta["exchangeName"], meta["currency"]) == (
        "CRYPTOCURRENCY",
        "CCC",
        "USD",
    )


@pytest.mark.anyio
async def test_chart_unknown_symbol() -> None:
    """An unknown symbol gets chart.result null and a Not Found error."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        response = await client.get(sim.chart_url("INVALID"))
    assert response.status_code == 404
    chart = response.json()["chart"]
    assert chart["result"] is None
    assert chart["error"]["code"] == "Not Found"
    assert chart["error"]["description"]


@pytest.mark.anyio
async def test_chart_price_matches_the_stream(recv_frames: RecvFrames, send: Send) -> None:
    """The REST price is the last streamed price of the same random walk."""
    async with (
        run_simulator(SimConfig(rate=300, seed=9)) as sim,
        connect(sim.ws_url, max_queue=None) as ws,
        httpx.AsyncClient() as client,
    ):
        await send(ws, "subscribe", ["MSFT"])
        received = await recv_frames(ws, 5)
        sim.inject(Fault("stall"))  # the walk stops; read what was already sent
        in_flight = sim.stats()["frames"]["valid"] - len(received)
        received += await recv_frames(ws, in_flight)
        meta = (await client.get(sim.chart_url("MSFT"))).json()["chart"]["result"][0]["meta"]
    last = received[-1]
    assert isinstance(last, Quote)
    assert meta["regularMarketPrice"] == last.display_price
    assert meta["regularMarketTime"] == last.ts_upstream // 1_000_000


@pytest.mark.anyio
async def test_cnn_shape() -> None:
    """CNN's graphdata has the current value, its history and the nine components."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        response = await client.get(sim.cnn_url, headers=BROWSER)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"fear_and_greed", "fear_and_greed_historical", *COMPONENTS}
    current = body["fear_and_greed"]
    assert 0 <= current["score"] <= 100
    assert current["rating"] in {"extreme fear", "fear", "neutral", "greed", "extreme greed"}
    point = body["fear_and_greed_historical"]["data"][0]
    assert set(point) == {"x", "y", "rating"}


@pytest.mark.anyio
async def test_cnn_dated_form() -> None:
    """`/graphdata/YYYY-MM-DD` returns history from that date; a bad date is 404."""
    config = SimConfig(rate=0, clock=lambda: 1_761_840_000.0)
    async with run_simulator(config) as sim, httpx.AsyncClient() as client:
        dated = await client.get(sim.cnn_url + "/2025-10-20", headers=BROWSER)
        bad = await client.get(sim.cnn_url + "/yesterday", headers=BROWSER)
    xs = [p["x"] for p in dated.json()["fear_and_greed_historical"]["data"]]
    assert min(xs) == 1_760_918_400_000.0  # 2025-10-20 00:00 UTC
    assert bad.status_code == 404


@pytest.mark.anyio
async def test_cnn_requires_a_browser_user_agent() -> None:
    """Without "Mozilla/" in User-Agent, CNN answers 418; the check can be turned off."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        bot = await client.get(sim.cnn_url, headers={"User-Agent": "python-httpx/0.28"})
    async with (
        run_simulator(SimConfig(rate=0, cnn_require_browser_ua=False)) as lenient,
        httpx.AsyncClient() as client,
    ):
        allowed = await client.get(lenient.cnn_url, headers={"User-Agent": "python-httpx/0.28"})
    assert bot.status_code == 418
    assert allowed.status_code == 200


@pytest.mark.anyio
async def test_stats_count_rest_requests() -> None:
    """Stats count chart and CNN requests."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        await client.get(sim.chart_url("AAPL"))
        await client.get(sim.chart_url("INVALID"))
        await client.get(sim.cnn_url, headers=BROWSER)
        stats = (await client.get(sim.base_url + "/_sim/stats")).json()
    assert stats["rest_requests"]["chart"] == 2
    assert stats["rest_requests"]["cnn"] == 1


@pytest.mark.anyio
async def test_index_page_and_404() -> None:
    """`GET /` describes the endpoints; other paths are 404."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        index = await client.get(sim.base_url + "/")
        missing = await client.get(sim.base_url + "/v7/finance/quote")
    assert "/_sim/fault" in index.text
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_wrong_websocket_path_is_404() -> None:
    """Only `/` upgrades; another path is answered as plain HTTP (404)."""
    async with run_simulator(SimConfig(rate=0)) as sim:
        with anyio.fail_after(2), pytest.raises(InvalidStatus, match="404"):
            await connect(f"ws://127.0.0.1:{sim.port}/elsewhere")
