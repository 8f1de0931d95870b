"""Every fault kind, observed from real clients, through the Python API and the HTTP API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from lib_common.ingestors.yahoo.codec import DecodeError, Skip, decode_frame
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import Fault, ManualClock, SimConfig, run_simulator

Frame = Quote | Skip | DecodeError
RecvFrames = Callable[[ClientConnection, int], Awaitable[list[Frame]]]
Send = Callable[[ClientConnection, str, list[str]], Awaitable[None]]
BROWSER = {"User-Agent": "Mozilla/5.0"}
FAST = SimConfig(rate=300)


async def closed_by_server(ws: ClientConnection) -> ConnectionClosed:
    """Read until the connection ends (2 s deadline); return how it ended."""
    with anyio.fail_after(2):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            return exc


async def assert_silent(ws: ClientConnection, window: float = 0.1) -> None:
    """Nothing arrives within `window` seconds (proving an absence needs a window)."""
    with anyio.move_on_after(window) as scope:
        frame = await ws.recv()
        raise AssertionError(f"unexpected frame {frame!r}")
    assert scope.cancelled_caught


@pytest.mark.anyio
async def test_stall_silences_then_clear_resumes(recv_frames: RecvFrames, send: Send) -> None:
    """During a stall no frames arrive while the connection stays open; clearing resumes."""
    async with run_simulator(FAST) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL"])
        received = len(await recv_frames(ws, 3))
        sim.inject(Fault("stall"))
        await recv_frames(ws, sim.stats()["frames"]["valid"] - received)  # in flight
        await assert_silent(ws)
        stall = sim.stats()["faults_active"][0]
        assert stall["kind"] == "stall"
        assert stall["hits"] > 0  # the pump ran and was held back
        assert sim.clear_faults() == 1
        (resumed,) = await recv_frames(ws, 1)
    assert isinstance(resumed, Quote)


@pytest.mark.anyio
async def test_stall_duration_runs_on_the_sim_clock(recv_frames: RecvFrames, send: Send) -> None:
    """A stall with a duration ends when the simulator's clock passes it."""
    clock = ManualClock()
    config = SimConfig(rate=300, clock=clock)
    async with run_simulator(config) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL"])
        received = len(await recv_frames(ws, 2))
        sim.inject(Fault("stall", duration=5))
        await recv_frames(ws, sim.stats()["frames"]["valid"] - received)
        clock.advance(4.9)
        await assert_silent(ws, 0.05)
        clock.advance(0.2)
        (resumed,) = await recv_frames(ws, 1)
        assert sim.stats()["faults_active"] == []
    assert isinstance(resumed, Quote)


@pytest.mark.anyio
async def test_stall_by_http_api_and_delete(recv_frames: RecvFrames, send: Send) -> None:
    """POST /_sim/fault starts a stall; DELETE /_sim/fault ends it at once."""
    async with (
        run_simulator(FAST) as sim,
        connect(sim.ws_url, max_queue=None) as ws,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        await send(ws, "subscribe", ["AAPL"])
        received = len(await recv_frames(ws, 2))
        created = await client.post("/_sim/fault", json={"kind": "stall", "duration": 60})
        await recv_frames(ws, sim.stats()["frames"]["valid"] - received)
        await assert_silent(ws)
        listed = (await client.get("/_sim/fault")).json()
        cleared = await client.delete("/_sim/fault")
        (resumed,) = await recv_frames(ws, 1)
    assert created.status_code == 201
    assert created.json()["kind"] == "stall"
    assert [f["kind"] for f in listed] == ["stall"]
    assert cleared.json() == {"cleared": 1}
    assert isinstance(resumed, Quote)


@pytest.mark.anyio
async def test_disconnect_is_abrupt_1006(send: Send) -> None:
    """A disconnect drops the TCP connection: no close frame, close code 1006."""
    async with run_simulator(FAST) as sim:
        ws = await connect(sim.ws_url, max_queue=None)
        await send(ws, "subscribe", ["AAPL"])
        sim.inject(Fault("disconnect"))
        closed = await closed_by_server(ws)
        assert sim.stats()["faults_active"] == []  # one-shot
    assert isinstance(closed, ConnectionClosedError)
    assert closed.rcvd is None
    assert ws.close_code == 1006


@pytest.mark.anyio
async def test_disconnect_with_duration_refuses_new_clients() -> None:
    """While a disconnect fault lasts, new connections are dropped right after the upgrade."""
    async with run_simulator(FAST) as sim:
        sim.inject(Fault("disconnect", duration=60))
        ws = await connect(sim.ws_url)
        with anyio.fail_after(2), pytest.raises(ConnectionClosedError):
            await ws.recv()
        sim.clear_faults()
        async with connect(sim.ws_url) as healthy:
            await healthy.send('{"subscribe":["AAPL"]}')
            with anyio.fail_after(2):
                assert await healthy.recv()
    assert ws.close_code == 1006


@pytest.mark.anyio
async def test_close_is_a_normal_close(send: Send) -> None:
    """A close fault ends connections with close code 1000 (or the one given)."""
    async with run_simulator(FAST) as sim:
        a = await connect(sim.ws_url, max_queue=None)
        b = await connect(sim.legacy_ws_url, max_queue=None)
        await send(a, "subscribe", ["AAPL"])
        with anyio.fail_after(2):
            await a.recv()  # the server has registered a (and b, which connected before)
        sim.inject(Fault("close", code=4000, count=1))
        sim.inject(Fault("close"))
        for ws in (a, b):
            await closed_by_server(ws)
    assert sorted([a.close_code, b.close_code]) == [1000, 4000]


@pytest.mark.anyio
async def test_garbage_interleaved_with_valid_frames(recv_frames: RecvFrames, send: Send) -> None:
    """Garbage frames arrive between valid ones and decode to DecodeError; count is honoured."""
    async with run_simulator(FAST) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL"])
        await recv_frames(ws, 1)
        sim.inject(Fault("garbage", count=3, variant="bad_base64"))
        frames: list[Frame] = []
        while sum(isinstance(f, DecodeError) for f in frames) < 3:
            frames += await recv_frames(ws, 1)
        frames += await recv_frames(ws, 3)
        stats = sim.stats()
    errors = [i for i, f in enumerate(frames) if isinstance(f, DecodeError)]
    assert len(errors) == 3
    assert all(isinstance(frames[i + 1], Quote) for i in errors)  # each followed by a quote
    assert all(f.kind == "base64" for f in frames if isinstance(f, DecodeError))
    assert stats["frames"]["garbage"] == 3


@pytest.mark.anyio
async def test_garbage_mixed_and_binary(send: Send) -> None:
    """Mixed garbage rotates through every variant, ending with one binary frame."""
    async with run_simulator(FAST) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL"])
        raw: list[str | bytes] = []
        with anyio.fail_after(2):
            await ws.recv()
            sim.inject(Fault("garbage", count=6))
            while not any(isinstance(r, bytes) for r in raw):
                raw.append(await ws.recv())
    results = [decode_frame(r, 0) for r in raw]
    kinds = {r.kind for r in results if isinstance(r, DecodeError)}
    assert kinds == {"json", "base64", "protobuf"}
    assert any(isinstance(q, Quote) and q.quote_type == 43 for q in results)  # unknown_enum
    assert sum(isinstance(r, bytes) for r in raw) == 1


@pytest.mark.anyio
async def test_slow_lowers_the_rate_for_count_messages() -> None:
    """A slow fault caps the effective rate until its count of messages is used up."""
    async with run_simulator(FAST) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await ws.send('{"subscribe":["AAPL"]}')
        sim.inject(Fault("slow", rate=20, count=2))
        assert sim.stats()["effective_rate"] == 20
        with anyio.fail_after(2):
            for _ in range(4):  # the snapshot, two slowed messages, then full speed
                await ws.recv()
        assert sim.stats()["effective_rate"] == 300


@pytest.mark.anyio
async def test_http_429_with_retry_after() -> None:
    """429 answers carry Retry-After (the fault's, else the configured default)."""
    async with (
        run_simulator(SimConfig(rate=0, retry_after=17)) as sim,
        httpx.AsyncClient() as client,
    ):
        sim.inject(Fault("429", count=1, retry_after=2))
        sim.inject(Fault("429", count=1))
        first = await client.get(sim.chart_url("AAPL"))
        second = await client.get(sim.cnn_url, headers=BROWSER)
        third = await client.get(sim.chart_url("AAPL"))
        faulted = sim.stats()["rest_requests"]["faulted"]
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert (second.status_code, second.headers["retry-after"]) == (429, "17")
    assert third.status_code == 200
    assert faulted == 2


@pytest.mark.anyio
async def test_http_500_418_and_down_page() -> None:
    """500, 418 and the "Will be right back" down page, one request each."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        sim.inject(Fault("500", count=1, target="rest"))
        sim.inject(Fault("418", count=1, target="rest"))
        sim.inject(Fault("down_page", count=1, target="rest"))
        codes = [(await client.get(sim.chart_url("AAPL"))) for _ in range(4)]
    assert [r.status_code for r in codes] == [500, 418, 503, 200]
    assert codes[0].json()["chart"]["result"] is None
    assert "Will be right back" in codes[2].text
    assert codes[2].headers["content-type"].startswith("text/html")


@pytest.mark.anyio
async def test_fault_target_limits_where_it_applies() -> None:
    """A CNN-only fault leaves the chart REST alone."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        sim.inject(Fault("500", target="cnn"))
        chart = await client.get(sim.chart_url("AAPL"))
        cnn = await client.get(sim.cnn_url, headers=BROWSER)
    assert (chart.status_code, cnn.status_code) == (200, 500)


@pytest.mark.anyio
async def test_hang_times_the_client_out_until_cleared() -> None:
    """A hung request is never answered; the client times out; clearing answers new ones."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        sim.inject(Fault("hang", target="rest"))
        with pytest.raises(httpx.ReadTimeout):
            await client.get(sim.chart_url("AAPL"), timeout=0.2)
        sim.clear_faults()
        after = await client.get(sim.chart_url("AAPL"), timeout=2)
    assert after.status_code == 200


@pytest.mark.anyio
async def test_hang_released_by_clear() -> None:
    """Clearing faults answers a request that is hanging."""
    async with run_simulator(SimConfig(rate=0)) as sim, httpx.AsyncClient() as client:
        sim.inject(Fault("hang", target="rest"))
        async with anyio.create_task_group() as tg:
            responses: list[httpx.Response] = []

            async def request() -> None:
                responses.append(await client.get(sim.chart_url("AAPL"), timeout=2))

            tg.start_soon(request)
            with anyio.fail_after(2):
                while sim.stats()["rest_requests"]["faulted"] == 0:
                    await anyio.lowlevel.checkpoint()
            sim.clear_faults()
    assert responses[0].status_code == 200


@pytest.mark.anyio
async def test_control_api_refuses_bad_faults() -> None:
    """Invalid JSON or an invalid fault gets 400 with a reason; unknown methods get 405."""
    async with (
        run_simulator(SimConfig(rate=0)) as sim,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        not_json = await client.post("/_sim/fault", content=b"{nope")
        bad_kind = await client.post("/_sim/fault", json={"kind": "meltdown"})
        wrong_method = await client.put("/_sim/fault", json={})
    assert not_json.status_code == 400
    assert bad_kind.status_code == 400
    assert "meltdown" in bad_kind.json()["error"]
    assert wrong_method.status_code == 405


@pytest.mark.anyio
async def test_stats_over_http(recv_frames: RecvFrames, send: Send) -> None:
    """GET /_sim/stats counts every symbol each time it appears in a received message."""
    async with (
        run_simulator(SimConfig(rate=0)) as sim,
        connect(sim.ws_url) as a,
        connect(sim.ws_url) as b,
        httpx.AsyncClient(base_url=sim.base_url) as client,
    ):
        await send(a, "subscribe", ["AAPL", "MSFT"])
        await send(b, "subscribe", ["AAPL"])
        await send(a, "subscribe", ["AAPL"])  # again: counted again
        await send(b, "unsubscribe", ["AAPL", "TSLA"])
        await recv_frames(a, 2)
        await send(b, "subscribe", ["KO"])  # b's snapshot: all of b's messages processed
        await recv_frames(b, 2)
        await send(a, "subscribe", ["IBM"])
        await recv_frames(a, 1)
        stats = (await client.get("/_sim/stats")).json()
    assert stats["connections"] == {"current": 2, "total": 2}
    assert stats["subscribe_counts"] == {"AAPL": 3, "IBM": 1, "KO": 1, "MSFT": 1}
    assert stats["unsubscribe_counts"] == {"AAPL": 1, "TSLA": 1}
    assert stats["control_messages"] == {"subscribe": 5, "unsubscribe": 1, "invalid": 0}
    assert stats["subscribed"] == {"AAPL": 1, "IBM": 1, "KO": 1, "MSFT": 1}
    assert stats["frames"] == {"valid": 5, "snapshot": 5, "garbage": 0}
