"""restream (a real process) on a yahoo-sim upstream that stalls and drops connections.

The simulator runs in the test's event loop; restream is pointed at it with short
timers so the whole failover and recovery take a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx
import pytest

from lib_common.sim import SimConfig, run_simulator

from ..conftest import RestreamProcess, is_type, open_client, send_json, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAST = (
    "--inactivity-timeout", "0.6",
    "--grace", "0.4",
    "--hysteresis", "0.4",
    "--poll-interval", "0.3",
    "--linger", "0",
)  # fmt: skip
SYMBOLS = ["AAPL", "BTC-USD"]


async def _start(
    start_restream: Callable[..., RestreamProcess], sim_ws: str, sim_base: str
) -> RestreamProcess:
    args = ("--upstream-ws", sim_ws, "--upstream-rest", sim_base, "--cnn-url", sim_base, *FAST)
    return await anyio.to_thread.run_sync(lambda: start_restream(*args))


async def test_stall_fails_over_to_polling_and_back(
    start_restream: Callable[..., RestreamProcess],
) -> None:
    """A stalled stream → status polling and quotes with source "poll"; the stall ends →
    status streaming and stream quotes again; the client never acts."""
    async with (
        run_simulator(SimConfig(rate=40, seed=1)) as sim,
        httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control,
    ):
        restream = await _start(start_restream, sim.ws_url, sim.base_url)
        async with await open_client(restream.ws_url) as ws:
            await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS})
            await wait_for(ws, is_type("status", mode="streaming"))
            await wait_for(ws, is_type("quote", source="stream"))

            response = await control.post("/_sim/fault", json={"kind": "stall"})
            assert response.status_code == 201
            await wait_for(ws, is_type("status", mode="polling"), within=15)
            polled: set[str] = set()
            while polled != set(SYMBOLS):
                quote = await wait_for(ws, is_type("quote", source="poll"), within=10)
                polled.add(quote["symbol"])
                assert quote["ts_library_in"] <= quote["ts_library_out"]

            assert (await control.delete("/_sim/fault")).status_code == 200
            await wait_for(ws, is_type("status", mode="streaming"), within=20)
            await wait_for(ws, is_type("quote", source="stream"), within=10)
            async with httpx.AsyncClient(base_url=restream.url, timeout=10) as http:
                health = (await http.get("/health")).json()
            assert health["mode"] == "streaming"
            assert health["counts"]["quotes_out"]["poll"] >= 2
            assert health["upstream"]["stalls"] >= 1


async def test_abrupt_disconnect_resumes_without_client_action(
    start_restream: Callable[..., RestreamProcess],
) -> None:
    """The simulator drops every upstream connection; quotes resume by themselves."""
    async with (
        run_simulator(SimConfig(rate=40, seed=2)) as sim,
        httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control,
    ):
        restream = await _start(start_restream, sim.ws_url, sim.base_url)
        async with await open_client(restream.ws_url) as ws:
            await send_json(ws, {"op": "subscribe", "symbols": SYMBOLS})
            await wait_for(ws, is_type("quote", source="stream"))
            before = (await control.get("/_sim/stats")).json()["connections"]["total"]
            response = await control.post("/_sim/fault", json={"kind": "disconnect"})
            assert response.status_code == 201
            # Quotes keep coming (from the stream once it has redialled, perhaps by
            # polling in between) without the client doing anything.
            for _ in range(3):
                await wait_for(ws, is_type("quote"), within=15)
            await wait_for(ws, is_type("quote", source="stream"), within=15)
            after = (await control.get("/_sim/stats")).json()["connections"]["total"]
            assert after > before, "restream reconnected upstream"
