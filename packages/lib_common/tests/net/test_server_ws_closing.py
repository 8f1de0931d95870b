"""A server-side close completes promptly while the client floods data messages.

The client is a raw socket, so the order of bytes on the wire is exact. `close_timeout` is
long (10 s): a close reply stuck behind unread messages would show as a multi-second wait,
and each test fails after 2 s.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest
from anyio.abc import SocketStream
from websockets.frames import Close, Frame, Opcode

from lib_common.net import ServerSettings, WsConnection, serve

RawUpgrade = Callable[[int], Awaitable[tuple[SocketStream, bytes]]]

SETTINGS = ServerSettings(max_queue=4, close_timeout=10.0)
FLOOD = 50  # far more than max_queue
MESSAGE = Frame(Opcode.TEXT, b"x" * 200).serialize(mask=True)
CLOSE_REPLY = Frame(Opcode.CLOSE, Close(4000, "bye").serialize()).serialize(mask=True)


async def read_close(stream: SocketStream, pending: bytes) -> tuple[int, bytes]:
    """Read the server's close frame (the only frame it sends here): its code and reason."""
    while len(pending) < 2 or len(pending) < 2 + pending[1]:
        pending += await stream.receive()
    assert pending[0] == 0x88  # FIN + close
    payload = pending[2 : 2 + pending[1]]
    return struct.unpack("!H", payload[:2])[0], payload[2:]


async def read_to_eof(stream: SocketStream) -> None:
    """Read until the server ends the TCP connection (it closes first, RFC 6455 §7.1.1)."""
    try:
        while True:
            await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError):
        pass


@pytest.mark.anyio
async def test_data_after_the_server_close_is_dropped_and_the_close_completes(
    raw_upgrade: RawUpgrade,
) -> None:
    """Messages sent after the server's close frame are counted and dropped, not queued."""
    result: dict[str, object] = {}
    done = anyio.Event()

    async def closer(conn: WsConnection) -> None:
        conn.close(4000, "bye")
        await conn.wait_closed()
        result.update(code=conn.close_code, dropped=conn.dropped_messages)
        result["delivered"] = [m async for m in conn]
        done.set()

    async with serve(ws_handler=closer, settings=SETTINGS) as server:
        with anyio.fail_after(2):
            stream, pending = await raw_upgrade(server.port)
            assert (4000, b"bye") == await read_close(stream, pending)
            await stream.send(MESSAGE * FLOOD + CLOSE_REPLY)
            await read_to_eof(stream)
            await stream.aclose()
            await done.wait()
    assert {"code": 4000, "dropped": FLOOD, "delivered": []} == result


@pytest.mark.anyio
async def test_full_inbound_queue_does_not_hold_up_the_close_reply(
    raw_upgrade: RawUpgrade,
) -> None:
    """With reading paused by a full queue, a server close still reads the client's reply."""
    flooded = anyio.Event()
    result: dict[str, int | None] = {}
    done = anyio.Event()

    async def idle_then_close(conn: WsConnection) -> None:
        await flooded.wait()  # read nothing: the queue fills and reading pauses
        conn.close(4000, "bye")
        await conn.wait_closed()
        delivered = [m async for m in conn]
        # Every message is accounted for: queued before the close, or dropped after it.
        result.update(code=conn.close_code, total=len(delivered) + conn.dropped_messages)
        done.set()

    async with serve(ws_handler=idle_then_close, settings=SETTINGS) as server:
        with anyio.fail_after(2):
            stream, pending = await raw_upgrade(server.port)
            await stream.send(MESSAGE * FLOOD)
            flooded.set()
            assert (4000, b"bye") == await read_close(stream, pending)
            await stream.send(CLOSE_REPLY)
            await read_to_eof(stream)
            await stream.aclose()
            await done.wait()
    assert {"code": 4000, "total": FLOOD} == result


@pytest.mark.anyio
async def test_a_peers_bare_eof_makes_later_writes_no_ops(raw_upgrade: RawUpgrade) -> None:
    """A client that half-closes TCP without a close frame gets the server's EOF back; from
    then on the connection is closed for writing, so a fan-out that keeps writing to it
    (every loop iteration, as the simulator's pump does) never meets the transport's
    "write() after write_eof()" error."""
    result: dict[str, object] = {}
    done = anyio.Event()
    frame = Frame(Opcode.TEXT, b"tick").serialize(mask=False)

    async def pump(conn: WsConnection) -> None:
        try:
            while not conn.closed:
                conn.write_frames([frame])
                await anyio.lowlevel.checkpoint()
            for _ in range(3):  # the iterations up to the connection's loss
                conn.write_frames([frame])
                await anyio.lowlevel.checkpoint()
            result["closed"] = conn.closed
        except Exception as exc:
            result["error"] = repr(exc)
        finally:
            done.set()

    async with serve(ws_handler=pump, settings=SETTINGS) as server:
        with anyio.fail_after(2):
            stream, _ = await raw_upgrade(server.port)
            await stream.send_eof()
            await read_to_eof(stream)
            await done.wait()
            await stream.aclose()
    assert {"closed": True} == result
