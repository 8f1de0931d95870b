"""Helpers for the net tests: a raw TCP exchange with a deadline, a hand-made WebSocket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from anyio.abc import SocketStream

RawExchange = Callable[[int, bytes], Awaitable[bytes]]
RawUpgrade = Callable[[int], Awaitable[tuple[SocketStream, bytes]]]


async def _raw_exchange(port: int, data: bytes) -> bytes:
    """Send `data` to 127.0.0.1:port and read until the server closes (2 s deadline)."""
    chunks: list[bytes] = []
    with anyio.fail_after(2):
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(data)
            try:
                while True:
                    chunks.append(await stream.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
    return b"".join(chunks)


@pytest.fixture
def raw_exchange() -> RawExchange:
    """A coroutine function: raw bytes in, everything the server sent before closing out."""
    return _raw_exchange


async def _raw_upgrade(port: int) -> tuple[SocketStream, bytes]:
    """Open a WebSocket on 127.0.0.1:port by hand: the stream, and any bytes after the 101."""
    stream = await anyio.connect_tcp("127.0.0.1", port)
    await stream.send(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return stream, rest


@pytest.fixture
def raw_upgrade() -> RawUpgrade:
    """A coroutine function: port in, (an upgraded raw socket stream, early frame bytes) out."""
    return _raw_upgrade
