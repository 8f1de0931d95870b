"""The simulated Yahoo streamer over loopback with a real websockets client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from lib_common.ingestors.yahoo.codec import DecodeError, Skip
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import SimConfig, run_simulator

# Clients use max_queue=None: a websockets client that stops reading a fast stream pauses
# its socket, and then cannot see the close handshake until its 10 s close timeout.

Frame = Quote | Skip | DecodeError
RecvFrames = Callable[[ClientConnection, int], Awaitable[list[Frame]]]
Send = Callable[[ClientConnection, str, list[str]], Awaitable[None]]


def symbols(frames: list[Frame]) -> list[str]:
    out = []
    for frame in frames:
        assert isinstance(frame, Quote), frame
        out.append(frame.symbol)
    return out


@pytest.mark.anyio
async def test_quotes_only_for_subscribed_symbols(recv_frames: RecvFrames, send: Send) -> None:
    """Three subscribed symbols each stream quotes, and nothing else arrives."""
    async with run_simulator(SimConfig(rate=300)) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL", "BTC-USD", "^GSPC"])
        got = symbols(await recv_frames(ws, 30))
    assert set(got) == {"AAPL", "BTC-USD", "^GSPC"}


@pytest.mark.anyio
async def test_snapshot_on_subscribe(recv_frames: RecvFrames, send: Send) -> None:
    """Each newly subscribed symbol gets its current value at once, even with no stream."""
    async with run_simulator(SimConfig(rate=0)) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL", "ETH-USD"])
        got = await recv_frames(ws, 2)
        await send(ws, "subscribe", ["AAPL", "MSFT"])  # AAPL again: no second snapshot
        again = await recv_frames(ws, 1)
        expected = [sim.market.quote(s) for s in ("AAPL", "ETH-USD", "MSFT")]
        stats = sim.stats()
    assert [(q.symbol, q.price) for q in expected] == [
        (q.symbol, q.display_price) for q in got + again if isinstance(q, Quote)
    ]
    assert stats["frames"]["snapshot"] == 3
    assert stats["quotes_generated"] == 0


@pytest.mark.anyio
async def test_unsubscribe_stops_a_symbol(recv_frames: RecvFrames, send: Send) -> None:
    """After an unsubscribe is processed, that symbol's quotes stop."""
    async with run_simulator(SimConfig(rate=300)) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["AAPL", "MSFT"])
        await recv_frames(ws, 6)
        await send(ws, "unsubscribe", ["AAPL"])
        await send(ws, "subscribe", ["KO"])  # its snapshot marks "unsubscribe processed"
        while True:
            (frame,) = await recv_frames(ws, 1)
            assert isinstance(frame, Quote)
            if frame.symbol == "KO":
                break
        after = symbols(await recv_frames(ws, 20))
        stats = sim.stats()
    assert "AAPL" not in after
    assert set(after) == {"MSFT", "KO"}
    assert stats["unsubscribe_counts"] == {"AAPL": 1}
    assert stats["subscribed"] == {"KO": 1, "MSFT": 1}


@pytest.mark.anyio
async def test_symbol_cap_truncates_silently(recv_frames: RecvFrames, send: Send) -> None:
    """Symbols beyond the per-connection cap are dropped without an error."""
    async with (
        run_simulator(SimConfig(rate=0, symbol_cap=2)) as sim,
        connect(sim.ws_url, max_queue=None) as ws,
    ):
        await send(ws, "subscribe", ["AAPL", "MSFT", "TSLA"])
        snapshots = symbols(await recv_frames(ws, 2))
        await send(ws, "subscribe", ["NVDA"])  # still full
        await send(ws, "unsubscribe", ["AAPL"])
        await send(ws, "subscribe", ["KO"])  # room again
        (ko,) = symbols(await recv_frames(ws, 1))
        stats = sim.stats()
    assert snapshots == ["AAPL", "MSFT"]
    assert ko == "KO"
    assert stats["subscribed"] == {"KO": 1, "MSFT": 1}
    assert stats["subscribe_counts"] == {"AAPL": 1, "KO": 1, "MSFT": 1, "NVDA": 1, "TSLA": 1}


@pytest.mark.anyio
async def test_envelope_and_legacy_formats(recv_frames: RecvFrames, send: Send) -> None:
    """`?version=2` sends JSON envelopes; `/` sends bare base64; both decode to quotes."""
    async with (
        run_simulator(SimConfig(rate=0)) as sim,
        connect(sim.ws_url) as v2,
        connect(sim.legacy_ws_url) as legacy,
    ):
        for ws in (v2, legacy):
            await send(ws, "subscribe", ["TSLA"])
        with anyio.fail_after(2):
            raw_v2 = await v2.recv()
            raw_legacy = await legacy.recv()
    assert isinstance(raw_v2, str)
    assert isinstance(raw_legacy, str)
    assert raw_v2.startswith('{"type":"pricing","message":"')
    assert raw_v2 == '{"type":"pricing","message":"' + raw_legacy + '"}'


@pytest.mark.anyio
async def test_same_seed_same_stream(recv_frames: RecvFrames, send: Send) -> None:
    """Two simulators with one seed stream the same prices for a symbol; another seed differs."""

    async def prices(seed: int) -> list[float]:
        async with (
            run_simulator(SimConfig(rate=300, seed=seed)) as sim,
            connect(sim.ws_url, max_queue=None) as ws,
        ):
            await send(ws, "subscribe", ["AAPL"])
            frames = await recv_frames(ws, 8)
        return [q.price for q in frames if isinstance(q, Quote)]

    first, second, other = await prices(42), await prices(42), await prices(43)
    assert first == second
    assert first != other


@pytest.mark.anyio
async def test_time_field_is_the_sim_clock(recv_frames: RecvFrames, send: Send) -> None:
    """Frames carry the injected clock's time in epoch milliseconds."""
    config = SimConfig(rate=0, clock=lambda: 1_761_785_160.0)
    async with run_simulator(config) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["BTC-USD"])
        (quote,) = await recv_frames(ws, 1)
    assert isinstance(quote, Quote)
    assert quote.ts_upstream == 1_761_785_160_000_000


@pytest.mark.anyio
async def test_fan_out_across_connections(recv_frames: RecvFrames, send: Send) -> None:
    """Clients sharing a symbol get the same quotes: one generated quote, many deliveries."""
    async with (
        run_simulator(SimConfig(rate=300)) as sim,
        connect(sim.ws_url, max_queue=None) as a,
        connect(sim.ws_url, max_queue=None) as b,
    ):
        await send(a, "subscribe", ["AAPL"])
        await recv_frames(a, 1)
        await send(b, "subscribe", ["AAPL"])
        (snapshot,) = await recv_frames(b, 1)
        prices_b = [q.price for q in await recv_frames(b, 5) if isinstance(q, Quote)]
        prices_a: list[float] = []

        def shared() -> bool:  # b's five quotes appear, contiguous and in order, in a's
            return any(prices_a[i : i + 5] == prices_b for i in range(len(prices_a)))

        with anyio.fail_after(2):
            while not shared():
                prices_a += [q.price for q in await recv_frames(a, 1) if isinstance(q, Quote)]
        stats = sim.stats()
    assert isinstance(snapshot, Quote)
    generated = stats["quotes_generated"]
    delivered = stats["frames"]["valid"] - stats["frames"]["snapshot"]
    assert generated < delivered <= 2 * generated
    assert stats["connections"] == {"current": 2, "total": 2}
    assert stats["subscribe_counts"] == {"AAPL": 2}


@pytest.mark.anyio
async def test_unknown_symbols_are_ignored(recv_frames: RecvFrames, send: Send) -> None:
    """An unknown symbol gets no snapshot and no error; known ones still stream."""
    async with run_simulator(SimConfig(rate=0)) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await send(ws, "subscribe", ["INVALID", "AAPL"])
        got = symbols(await recv_frames(ws, 1))
    assert got == ["AAPL"]


@pytest.mark.anyio
async def test_bad_control_is_counted_and_ignored(recv_frames: RecvFrames, send: Send) -> None:
    """Malformed control JSON is counted and ignored by default."""
    async with run_simulator(SimConfig(rate=0)) as sim, connect(sim.ws_url, max_queue=None) as ws:
        await ws.send("{not json")
        await send(ws, "subscribe", ["AAPL"])
        await recv_frames(ws, 1)
        assert sim.stats()["control_messages"] == {"subscribe": 1, "unsubscribe": 0, "invalid": 1}


@pytest.mark.anyio
async def test_bad_control_can_close_without_status() -> None:
    """With close_on_bad_control, malformed JSON closes the connection with no status."""
    async with (
        run_simulator(SimConfig(rate=0, close_on_bad_control=True)) as sim,
        connect(sim.ws_url) as ws,
    ):
        await ws.send("{not json")
        with anyio.fail_after(2), pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1005


@pytest.mark.anyio
async def test_shutdown_sends_1001() -> None:
    """Leaving run_simulator closes streamer clients with 1001."""
    async with run_simulator(SimConfig(rate=0)) as sim:
        ws = await connect(sim.ws_url)
    with anyio.fail_after(2), pytest.raises(ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 1001
