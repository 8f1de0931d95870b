"""RestreamGateway in the test's own event loop, on an in-process simulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import pytest

from lib_common.core.calendar import ALWAYS_OPEN
from lib_common.core.upstream_manager import UpstreamStatus
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import SimConfig, run_simulator
from rsdev_servers.restream.gateway import RestreamGateway, Upstreams, base_url
from rsdev_servers.restream.settings import RestreamSettings

from ..conftest import is_type, next_json, open_client, send_json, wait_for

pytestmark = pytest.mark.anyio


@dataclass
class Running:
    gateway: RestreamGateway
    url: str
    quotes: list[Quote] = field(default_factory=list)
    statuses: list[UpstreamStatus] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "ws"


@asynccontextmanager
async def running_gateway(**overrides: object) -> AsyncIterator[Running]:
    settings = RestreamSettings(port=0, linger=0, **overrides)  # type: ignore[arg-type]
    async with run_simulator(SimConfig(rate=50, seed=3)) as sim:
        gateway = RestreamGateway(
            settings, Upstreams(sim.ws_url, sim.rest_url, sim.base_url), calendar=ALWAYS_OPEN
        )
        stop = anyio.Event()
        announced: list[str] = []
        ready = anyio.Event()

        def announce(url: str) -> None:
            announced.append(url)
            ready.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: gateway.run(stop=stop, announce=announce))
            with anyio.fail_after(10):
                await ready.wait()
            running = Running(gateway, announced[0])
            gateway.quote_taps.append(running.quotes.append)
            gateway.status_taps.append(running.statuses.append)
            try:
                yield running
            finally:
                stop.set()


def test_base_url() -> None:
    """Wildcard binds are shown as loopback; IPv6 literals get brackets."""
    assert base_url("0.0.0.0", 1) == "http://127.0.0.1:1/"
    assert base_url("::1", 2) == "http://[::1]:2/"
    assert base_url("127.0.0.1", 3) == "http://127.0.0.1:3/"


async def test_taps_see_what_clients_get() -> None:
    """Quote and status taps get every value the manager hands over, before the fan-out."""
    async with running_gateway() as running, await open_client(running.ws_url) as ws:
        await next_json(ws)
        await send_json(ws, {"op": "subscribe", "symbols": ["MSFT"]})
        quote = await wait_for(ws, is_type("quote"))
        tapped = [q for q in running.quotes if q.ts_library_in == quote["ts_library_in"]]
        assert [q.symbol for q in tapped] == ["MSFT"]
        assert "streaming" in [s.mode.value for s in running.statuses]


async def test_priority_conflate_and_views() -> None:
    """Session options show in health; snapshot() reports missing and rejected names."""
    async with (
        running_gateway() as running,
        await open_client(running.ws_url + "?priority=high&conflate=1") as ws,
    ):
        await next_json(ws)
        health = running.gateway.health()
        assert health["clients"]["by_priority"]["high"] == 1
        assert health["status"] == "ok"
        view = running.gateway.snapshot(["NOPE", "bad sym", "@fear_greed"])
        assert view["missing"] == ["NOPE", "@fear_greed"]
        assert [r["symbol"] for r in view["rejected"]] == ["bad sym"]
        await send_json(ws, {"op": "subscribe", "symbols": ["IBM"]})
        await wait_for(ws, is_type("quote"))
        assert running.gateway.snapshot(None)["quotes"]["IBM"]["symbol"] == "IBM"
        body = running.gateway.metrics_body().decode()
        assert 'restream_clients{priority="high"} 1.0' in body


async def test_global_symbol_limit_is_server_full() -> None:
    """Past --max-upstream-symbols, new symbols are refused with server_full."""
    async with (
        running_gateway(max_upstream_symbols=1) as running,
        await open_client(running.ws_url) as ws,
    ):
        await next_json(ws)
        await send_json(ws, {"op": "subscribe", "symbols": ["AAPL", "MSFT"]})
        error = await wait_for(ws, is_type("error"))
        assert error["code"] == "server_full"
        assert [s["symbol"] for s in error["symbols"]] == ["MSFT"]
        assert json.dumps(error).count("global_limit") == 1
