"""HTTP on the stream port, and who may connect: token, Origin, methods, paths."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from lib_common.sim import SimConfig, run_simulator

from .conftest import YahooClient, gateway_url, running_gateway

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token-for-tests-0123456789"


def base(url: str) -> str:
    return url.replace("ws://", "http://").split("/?")[0].rstrip("/")


async def test_endpoints_without_token() -> None:
    """/health and /metrics answer; / is an index page; other paths 404, POST 405."""
    async with (
        run_simulator(SimConfig(rate=0)) as sim,
        running_gateway(sim) as gateway,
        httpx.AsyncClient(base_url=base(gateway_url(gateway)), timeout=10) as http,
    ):
        health = (await http.get("/health")).json()
        assert "ok" == health["status"]
        assert {"total": 0, "v2": 0, "legacy": 0} == health["clients"]
        assert "idle" == health["upstream"]["mode"]  # nothing subscribed yet
        metrics = await http.get("/metrics")
        assert "server_yahoo_uptime_seconds" in metrics.text
        index = await http.get("/")
        assert "?version=2" in index.text
        assert 404 == (await http.get("/nope")).status_code
        assert 405 == (await http.post("/health")).status_code


async def test_token_guards_streams_and_metrics_but_not_health() -> None:
    """With a token: WebSocket and /metrics need it (query or Bearer); /health does not. A
    stream without it is refused at the handshake: 401 with a Bearer challenge, JSON body."""
    async with (
        run_simulator(SimConfig(rate=20)) as sim,
        running_gateway(sim, auth_token=TOKEN) as gateway,
        httpx.AsyncClient(base_url=base(gateway_url(gateway)), timeout=10) as http,
    ):
        assert 200 == (await http.get("/health")).status_code
        assert 401 == (await http.get("/metrics")).status_code
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert 200 == (await http.get("/metrics", headers=bearer)).status_code

        with pytest.raises(InvalidStatus) as refused:
            await YahooClient.open(gateway_url(gateway))
        response = refused.value.response
        assert 401 == response.status_code
        assert 'Bearer realm="server-yahoo"' == response.headers["WWW-Authenticate"]
        assert "unauthorized" == json.loads(response.body)["error"]
        by_query = await YahooClient.open(gateway_url(gateway) + f"&token={TOKEN}")
        await by_query.subscribe(["BTC-USD"])
        assert "BTC-USD" == (await by_query.next_quote()).symbol
        by_header = await YahooClient.open(
            gateway_url(gateway, legacy=True), additional_headers=bearer
        )
        await by_header.subscribe(["BTC-USD"])
        assert "BTC-USD" == (await by_header.next_quote()).symbol
        assert 1 == gateway.hub.refused["unauthorized"]
        await by_query.aclose()
        await by_header.aclose()


async def test_foreign_browser_origin_is_refused() -> None:
    """A page from another site cannot open the stream (403 at the handshake); the
    server's own origin and configured ones can."""
    async with (
        run_simulator(SimConfig(rate=0)) as sim,
        running_gateway(sim, allow_origin=("http://dash.example:8080",)) as gateway,
    ):
        url = gateway_url(gateway)
        assert gateway.server is not None
        own = f"http://127.0.0.1:{gateway.server.port}"
        with pytest.raises(InvalidStatus) as refused:
            await YahooClient.open(url, origin="https://evil.example")
        assert 403 == refused.value.response.status_code
        for origin in ("http://dash.example:8080", own):
            client = await YahooClient.open(url, origin=origin)
            await client.aclose()
