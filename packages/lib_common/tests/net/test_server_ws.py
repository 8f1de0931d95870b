"""The shared server's WebSocket side over real loopback sockets, with a websockets client."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.lowlevel
import httpx
import pytest
from anyio.abc import SocketStream
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.frames import CloseCode, Frame, Opcode

from lib_common.net import (
    HttpRequest,
    HttpResponse,
    ServerSettings,
    WsConnection,
    serve,
    text_frame,
)

RawUpgrade = Callable[[int], Awaitable[tuple[SocketStream, bytes]]]


async def echo(conn: WsConnection) -> None:
    """Echo every message back in kind; `boom` makes the handler raise."""
    async for message in conn:
        if message == "boom":
            raise RuntimeError("handler bug")
        if isinstance(message, str):
            conn.send_text(message)
        else:
            conn.send_bytes(message)


async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse.text("plain")


@pytest.mark.anyio
async def test_echo_text_and_binary() -> None:
    """Text comes back as str and binary as bytes."""
    async with (
        serve(ws_handler=echo) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        await ws.send("héllo")
        await ws.send(b"\x00\x01\xff")
        with anyio.fail_after(2):
            assert await ws.recv() == "héllo"
            assert await ws.recv() == b"\x00\x01\xff"


@pytest.mark.anyio
async def test_http_and_websocket_share_the_port() -> None:
    """Plain GETs go to the HTTP handler while an upgrade on the same port is a WebSocket."""
    async with (
        serve(http_handler=hello, ws_handler=echo) as server,
        connect(f"ws://127.0.0.1:{server.port}/ws") as ws,
    ):
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{server.port}/ws")
        await ws.send("still here")
        with anyio.fail_after(2):
            assert await ws.recv() == "still here"
    assert response.text == "plain"


@pytest.mark.anyio
async def test_path_query_headers_remote() -> None:
    """The handler sees the upgrade's path, parsed query, headers and peer address."""
    seen: list[WsConnection] = []

    async def record(conn: WsConnection) -> None:
        seen.append(conn)

    async with serve(ws_handler=record) as server:
        url = f"ws://127.0.0.1:{server.port}/feed?version=2&x=a%20b"
        async with connect(url, additional_headers={"X-Client": "t"}) as ws:
            with anyio.fail_after(2), pytest.raises(ConnectionClosed):
                await ws.recv()
    conn = seen[0]
    assert (conn.path, conn.query) == ("/feed", {"version": "2", "x": "a b"})
    assert conn.headers["X-Client"] == "t"
    assert conn.remote is not None
    assert conn.remote[0] == "127.0.0.1"


@pytest.mark.anyio
async def test_fragmented_message_is_reassembled() -> None:
    """A message sent in fragments arrives at the handler as one message."""
    async with (
        serve(ws_handler=echo) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        await ws.send(["frag", "men", "ted"])
        await ws.send([b"ab", b"cd"])
        with anyio.fail_after(2):
            assert await ws.recv() == "fragmented"
            assert await ws.recv() == b"abcd"


@pytest.mark.anyio
async def test_client_ping_is_answered() -> None:
    """A client ping gets its pong."""
    async with (
        serve(ws_handler=echo) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        pong = await ws.ping(b"x")
        with anyio.fail_after(2):
            latency = await pong
    assert latency >= 0


@pytest.mark.anyio
async def test_message_over_max_frame_closes_1009() -> None:
    """A message larger than `max_frame` closes the connection with 1009."""
    settings = ServerSettings(max_frame=1024)
    async with (
        serve(ws_handler=echo, settings=settings) as server,
        connect(f"ws://127.0.0.1:{server.port}/", max_size=None) as ws,
    ):
        await ws.send("a" * 2000)
        with anyio.fail_after(2), pytest.raises(ConnectionClosedError):
            await ws.recv()
    assert ws.close_code == CloseCode.MESSAGE_TOO_BIG


@pytest.mark.anyio
async def test_invalid_utf8_closes_1007() -> None:
    """A text message that is not UTF-8 closes the connection with 1007."""
    async with (
        serve(ws_handler=echo) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        await ws.send([b"\xff\xfe"], text=True)
        with anyio.fail_after(2), pytest.raises(ConnectionClosedError):
            await ws.recv()
    assert ws.close_code == CloseCode.INVALID_DATA


@pytest.mark.anyio
async def test_client_close_handshake_ends_the_handler() -> None:
    """A client close completes the handshake and ends the handler's message loop."""
    ended = anyio.Event()
    codes: list[int | None] = []

    async def wait_close(conn: WsConnection) -> None:
        async for _ in conn:
            pass
        await conn.wait_closed()
        codes.append(conn.close_code)
        ended.set()

    async with serve(ws_handler=wait_close) as server:
        async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
            await ws.close(code=4000, reason="bye")
        with anyio.fail_after(2):
            await ended.wait()
    assert ws.close_code == 4000
    assert codes == [4000]


@pytest.mark.anyio
async def test_server_close_sends_code_and_reason() -> None:
    """`close(code, reason)` reaches the client as that close frame."""

    async def closer(conn: WsConnection) -> None:
        conn.close(4001, "go away")
        await conn.wait_closed()

    async with (
        serve(ws_handler=closer) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        with anyio.fail_after(2), pytest.raises(ConnectionClosed):
            await ws.recv()
    assert (ws.close_code, ws.close_reason) == (4001, "go away")


@pytest.mark.anyio
async def test_abort_is_seen_as_1006() -> None:
    """`abort()` drops the TCP connection without a close frame."""

    async def aborter(conn: WsConnection) -> None:
        conn.abort()
        await conn.wait_closed()

    async with (
        serve(ws_handler=aborter) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        with anyio.fail_after(2), pytest.raises(ConnectionClosedError):
            await ws.recv()
    assert ws.close_code == CloseCode.ABNORMAL_CLOSURE


class CountingTransport:
    """Wraps a real transport and records the write calls that reach it (bytes each)."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def write(self, data: bytes) -> None:
        self.calls.append(len(data))
        self.inner.write(data)

    def writelines(self, data: Sequence[bytes]) -> None:
        self.calls.append(-1)  # not expected: write_frames joins its frames itself
        self.inner.writelines(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.mark.anyio
async def test_write_frames_is_one_transport_write_in_order() -> None:
    """Several pre-built frames go out in order with a single transport call."""
    spies: list[CountingTransport] = []
    calls: list[list[int]] = []
    sizes: list[int] = []

    async def burst(conn: WsConnection) -> None:
        spy = CountingTransport(conn._transport)
        conn._transport = spy  # type: ignore[assignment]
        spies.append(spy)
        frames = [text_frame(f"m{i}".encode()) for i in range(5)]
        conn.write_frames(frames)
        calls.append(list(spy.calls))
        sizes.append(sum(map(len, frames)))
        await conn.wait_closed()

    async with (
        serve(ws_handler=burst) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        with anyio.fail_after(2):
            received = [await ws.recv() for _ in range(5)]
    assert received == ["m0", "m1", "m2", "m3", "m4"]
    assert calls == [sizes]  # one write carrying all five frames


@pytest.mark.anyio
async def test_shared_frame_reaches_several_clients() -> None:
    """One frame object written to many sinks arrives intact at each client."""
    conns: list[WsConnection] = []
    all_in = anyio.Event()

    async def collect(conn: WsConnection) -> None:
        conns.append(conn)
        if len(conns) == 3:
            all_in.set()
        await conn.wait_closed()

    async with serve(ws_handler=collect) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url) as a, connect(url) as b, connect(url) as c:
            with anyio.fail_after(2):
                await all_in.wait()
                frame = text_frame(b'{"shared":true}')
                for conn in conns:
                    conn.write_frames([frame])
                got = [await ws.recv() for ws in (a, b, c)]
    assert got == ['{"shared":true}'] * 3


@pytest.mark.anyio
@pytest.mark.parametrize("size", [10, 300, 70000])
async def test_text_frame_length_classes_reach_a_real_client(size: int) -> None:
    """Frames with 7-bit, 16-bit and 64-bit lengths decode correctly in a real client."""
    payload = "x" * (size - 1) + "é"

    async def send_one(conn: WsConnection) -> None:
        conn.write_frames([text_frame(payload.encode())])
        await conn.wait_closed()

    async with (
        serve(ws_handler=send_one) as server,
        connect(f"ws://127.0.0.1:{server.port}/") as ws,
    ):
        with anyio.fail_after(2):
            assert payload == await ws.recv()


@pytest.mark.anyio
async def test_handler_exception_closes_only_that_client_1011() -> None:
    """A raising handler closes its own connection with 1011; others keep working."""
    async with serve(ws_handler=echo) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url) as bad, connect(url) as good:
            await bad.send("boom")
            with anyio.fail_after(2), pytest.raises(ConnectionClosedError):
                await bad.recv()
            await good.send("fine")
            with anyio.fail_after(2):
                assert await good.recv() == "fine"
    assert bad.close_code == CloseCode.INTERNAL_ERROR


@pytest.mark.anyio
async def test_shutdown_sends_1001_to_all() -> None:
    """Leaving `serve()` closes every WebSocket with 1001 (going away)."""
    conns: list[WsConnection] = []
    both = anyio.Event()

    async def hold(conn: WsConnection) -> None:
        conns.append(conn)
        if len(conns) == 2:
            both.set()
        async for _ in conn:
            pass

    url_holder: list[str] = []
    async with serve(ws_handler=hold) as server:
        url_holder.append(f"ws://127.0.0.1:{server.port}/")
        a = await connect(url_holder[0])
        b = await connect(url_holder[0])
        with anyio.fail_after(2):
            await both.wait()
    with anyio.fail_after(2):
        for ws in (a, b):
            with pytest.raises(ConnectionClosed):
                await ws.recv()
    assert [a.close_code, b.close_code] == [1001, 1001]


@pytest.mark.anyio
async def test_shutdown_cancels_a_handler_that_ignores_the_close() -> None:
    """A handler that never returns is cancelled when the server shuts down."""
    cancelled = anyio.Event()

    async def stubborn(conn: WsConnection) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    settings = ServerSettings(close_timeout=0.1, shutdown_timeout=0.1)
    with anyio.fail_after(3):
        async with serve(ws_handler=stubborn, settings=settings) as server:
            ws = await connect(f"ws://127.0.0.1:{server.port}/")
        await cancelled.wait()
        await ws.close()


@pytest.mark.anyio
async def test_keepalive_closes_a_client_that_never_pongs(raw_upgrade: RawUpgrade) -> None:
    """With `ping_interval`, a client that does not answer pings is closed with 1011."""
    settings = ServerSettings(ping_interval=0.05)

    async def hold(conn: WsConnection) -> None:
        async for _ in conn:
            pass

    async with serve(ws_handler=hold, settings=settings) as server:
        with anyio.fail_after(2):
            stream, data = await raw_upgrade(server.port)
            while b"\x88" not in data:  # read until the close frame (opcode 8)
                data += await stream.receive()
            await stream.aclose()
    assert data[0] == 0x89  # a ping came first
    close = data[data.index(b"\x88") :]
    assert struct.unpack("!H", close[2:4])[0] == 1011


@pytest.mark.anyio
async def test_keepalive_keeps_an_answering_client(raw_upgrade: RawUpgrade) -> None:
    """A client that answers each ping with a pong is pinged again, not closed."""
    settings = ServerSettings(ping_interval=0.02)

    async def hold(conn: WsConnection) -> None:
        async for _ in conn:
            pass

    async with serve(ws_handler=hold, settings=settings) as server:
        with anyio.fail_after(2):
            stream, pending = await raw_upgrade(server.port)
            for _ in range(3):
                while len(pending) < 2:
                    pending += await stream.receive()
                header, pending = pending[:2], pending[2:]
                assert header == b"\x89\x00"  # an empty ping, never a close
                await stream.send(Frame(Opcode.PONG, b"").serialize(mask=True))
            await stream.aclose()


@pytest.mark.anyio
async def test_flow_control_writable_and_drain(raw_upgrade: RawUpgrade) -> None:
    """A client that stops reading makes the sink unwritable; reading again releases drain()."""
    blocked = anyio.Event()
    drained = anyio.Event()
    state: dict[str, int] = {}

    async def flood(conn: WsConnection) -> None:
        chunk = text_frame(b"z" * 65536)
        for _ in range(2000):  # bounded: kernel buffers fill long before this
            if not conn.writable:
                break
            conn.write_frames([chunk])
            await anyio.lowlevel.checkpoint()
        state["buffered"] = conn.buffered_bytes()
        blocked.set()
        await conn.drain()
        drained.set()
        await conn.wait_closed()

    async with serve(ws_handler=flood) as server:
        with anyio.fail_after(5):
            stream, _ = await raw_upgrade(server.port)
            await blocked.wait()
            assert not drained.is_set()
            while not drained.is_set():
                await stream.receive(1 << 20)
            await stream.aclose()
    assert state["buffered"] > 0
