"""The one-port server on a uvloop event loop, over real loopback sockets.

restream runs on uvloop when it is installed, and uvloop's transports are not
`asyncio.Transport` subclasses (an `isinstance` assert once failed every connection), so
the server's HTTP side, the WebSocket upgrade, text both ways, pre-built frame writes with
flow control, and each way of closing are exercised here on uvloop itself.
"""

from __future__ import annotations

import asyncio
import sys

import anyio
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

from lib_common.net import HttpRequest, HttpResponse, WsConnection, serve, text_frame

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="uvloop is POSIX-only"),
]


@pytest.fixture(params=[pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """Every test in this module runs on asyncio with uvloop's event loop."""
    return request.param  # type: ignore[no-any-return]


def assert_on_uvloop() -> None:
    """Fail unless the running loop really is uvloop's (not a silent asyncio fallback)."""
    loop = asyncio.get_running_loop()
    assert "uvloop" == type(loop).__module__.split(".")[0], type(loop)


async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse.text(f"hello {request.path}")


async def test_http_requests_on_uvloop() -> None:
    """Plain GETs are answered, twice on one keep-alive connection."""
    assert_on_uvloop()
    async with serve(http_handler=hello) as server, httpx.AsyncClient() as client:
        with anyio.fail_after(2):
            first = await client.get(f"http://127.0.0.1:{server.port}/a")
            second = await client.get(f"http://127.0.0.1:{server.port}/b")
    assert (200, "hello /a") == (first.status_code, first.text)
    assert (200, "hello /b") == (second.status_code, second.text)


async def test_websocket_text_both_ways_and_client_close_on_uvloop() -> None:
    """Upgrade, a greeting, echoed text, then the client's close (1000) reaches the handler."""
    assert_on_uvloop()
    handled: list[WsConnection] = []
    done = anyio.Event()

    async def shout(conn: WsConnection) -> None:
        handled.append(conn)
        conn.send_text("welcome")
        async for message in conn:
            assert isinstance(message, str)
            conn.send_text(message.upper())
        await conn.wait_closed()
        done.set()

    async with (
        serve(http_handler=hello, ws_handler=shout) as server,
        connect(f"ws://127.0.0.1:{server.port}/ws") as ws,
    ):
        with anyio.fail_after(2):
            assert "welcome" == await ws.recv()
            for text in ("héllo", "second"):
                await ws.send(text)
                assert text.upper() == await ws.recv()
            await ws.close(1000, "bye")
            await done.wait()
    (conn,) = handled
    assert ("/ws", "127.0.0.1") == (conn.path, conn.remote[0] if conn.remote else None)
    assert 1000 == conn.close_code


async def test_handler_return_and_shutdown_close_on_uvloop() -> None:
    """A handler that returns closes with 1000; leaving `serve` closes the rest with 1001."""
    assert_on_uvloop()

    async def greet_then_maybe_leave(conn: WsConnection) -> None:
        conn.send_text("hi")
        if conn.path == "/stay":
            await conn.wait_closed()

    async with serve(ws_handler=greet_then_maybe_leave) as server:
        async with connect(f"ws://127.0.0.1:{server.port}/leave") as leaving:
            with anyio.fail_after(2):
                assert "hi" == await leaving.recv()
                with pytest.raises(ConnectionClosedOK) as left:
                    await leaving.recv()
        staying = await connect(f"ws://127.0.0.1:{server.port}/stay")
        with anyio.fail_after(2):
            assert "hi" == await staying.recv()
    with anyio.fail_after(2), pytest.raises(ConnectionClosedOK) as shut:
        await staying.recv()
    assert left.value.rcvd is not None
    assert 1000 == left.value.rcvd.code
    assert shut.value.rcvd is not None
    assert 1001 == shut.value.rcvd.code


async def test_prebuilt_frames_and_flow_control_on_uvloop() -> None:
    """write_frames (one vectored write) fills the buffer, pauses, drains; all arrive in order."""
    assert_on_uvloop()
    chunk = "x" * 16_000
    paused = anyio.Event()
    seen_backlog: list[int] = []

    async def flood(conn: WsConnection) -> None:
        sent = 0
        # Bounded: a reader that does not read makes the transport pause long before this.
        while conn.writable and sent < 4_000:
            conn.write_frames([text_frame(f"{sent + i}:{chunk}".encode()) for i in range(8)])
            sent += 8
        seen_backlog.append(conn.buffered_bytes())
        paused.set()
        await conn.drain()
        conn.send_text(f"end {sent}")
        await conn.wait_closed()

    async with (
        serve(ws_handler=flood) as server,
        connect(f"ws://127.0.0.1:{server.port}/", max_size=None, max_queue=4) as ws,
    ):
        with anyio.fail_after(10):
            await paused.wait()
            received = 0
            while True:
                message = await ws.recv()
                assert isinstance(message, str)
                if message.startswith("end "):
                    break
                index, _, body = message.partition(":")
                assert (received, chunk) == (int(index), body)
                received += 1
    assert f"end {received}" == message
    (backlog,) = seen_backlog
    assert backlog > 0
    assert received < 4_000  # the transport paused writing before the bound
