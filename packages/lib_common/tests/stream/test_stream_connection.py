"""DirectTextConnection over real loopback sockets: which messages take the direct path."""

from __future__ import annotations

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError
from websockets.frames import CloseCode, Frame, Opcode

from lib_common.ingestors.yahoo.stream_connection import DirectTextConnection
from lib_common.net import WsConnection, WsHandler, serve

DEADLINE = 5.0


def frame(opcode: Opcode, data: bytes, *, fin: bool = True) -> bytes:
    """One unmasked server frame, built by websockets."""
    return Frame(opcode, data, fin=fin).serialize(mask=False)


def scripted(frames: list[bytes]) -> WsHandler:
    """A WebSocket handler that writes `frames` in one write once the client says "go"."""

    async def handler(conn: WsConnection) -> None:
        async for message in conn:
            if message == "go":
                conn.write_frames(frames)

    return handler


@pytest.mark.anyio
async def test_single_frame_texts_go_direct_in_order_and_the_rest_to_recv() -> None:
    """Whole text frames reach `on_text` in order; a fragmented text and a binary message
    arrive whole through recv(), the fragments never split by a direct text between them."""
    frames = [
        frame(Opcode.TEXT, b"a"),
        frame(Opcode.TEXT, b"b1", fin=False),
        frame(Opcode.CONT, b"b2"),
        frame(Opcode.TEXT, "ç".encode()),
        frame(Opcode.BINARY, b"\x00d"),
        frame(Opcode.TEXT, b"e"),
    ]
    async with serve(ws_handler=scripted(frames)) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, create_connection=DirectTextConnection) as ws:
            assert isinstance(ws, DirectTextConnection)
            direct: list[str] = []
            done = anyio.Event()

            def on_text(text: str) -> None:
                direct.append(text)
                if text == "e":
                    done.set()

            ws.on_text = on_text
            await ws.send("go")
            with anyio.fail_after(DEADLINE):
                await done.wait()
                queued = [await ws.recv(), await ws.recv()]
    assert ["a", "ç", "e"] == direct
    assert ["b1b2", b"\x00d"] == queued


@pytest.mark.anyio
async def test_without_on_text_every_message_goes_to_recv() -> None:
    """With no callback the connection behaves exactly like websockets' own."""
    frames = [frame(Opcode.TEXT, b"a"), frame(Opcode.TEXT, b"b")]
    async with serve(ws_handler=scripted(frames)) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, create_connection=DirectTextConnection) as ws:
            await ws.send("go")
            with anyio.fail_after(DEADLINE):
                assert ["a", "b"] == [await ws.recv(), await ws.recv()]


@pytest.mark.anyio
async def test_invalid_utf8_fails_the_connection_with_1007() -> None:
    """A text frame that is not UTF-8 is not passed on: the connection fails (1007) as
    websockets' own path makes it."""
    frames = [frame(Opcode.TEXT, b"ok"), frame(Opcode.TEXT, b"\xff\xfe")]
    async with serve(ws_handler=scripted(frames)) as server:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, create_connection=DirectTextConnection) as ws:
            assert isinstance(ws, DirectTextConnection)
            direct: list[str] = []
            ws.on_text = direct.append
            await ws.send("go")
            with anyio.fail_after(DEADLINE), pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
    assert ["ok"] == direct
    assert closed.value.sent is not None
    assert CloseCode.INVALID_DATA == closed.value.sent.code
