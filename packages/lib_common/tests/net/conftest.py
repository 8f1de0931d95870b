"""Helpers for the net tests: a raw TCP exchange with a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest

RawExchange = Callable[[int, bytes], Awaitable[bytes]]


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
