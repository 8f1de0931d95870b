"""Helpers for the simulator tests: decode streamed frames with deadlines."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import pytest
from websockets.asyncio.client import ClientConnection

from lib_common.ingestors.yahoo.codec import DecodeError, Skip, decode_frame
from lib_common.ingestors.yahoo.quote import Quote

Frame = Quote | Skip | DecodeError
RecvFrames = Callable[[ClientConnection, int], Awaitable[list[Frame]]]
Send = Callable[[ClientConnection, str, list[str]], Awaitable[None]]


async def _recv_frames(ws: ClientConnection, count: int) -> list[Frame]:
    """Receive and decode `count` frames (2 s deadline for all of them)."""
    out: list[Frame] = []
    with anyio.fail_after(2):
        for _ in range(count):
            out.append(decode_frame(await ws.recv(), 0))
    return out


async def _send(ws: ClientConnection, op: str, symbols: list[str]) -> None:
    """Send Yahoo's `{"subscribe": [...]}` or `{"unsubscribe": [...]}`."""
    await ws.send(json.dumps({op: symbols}))


@pytest.fixture
def recv_frames() -> RecvFrames:
    """Receive and decode N frames from a streamer connection, with a deadline."""
    return _recv_frames


@pytest.fixture
def send() -> Send:
    """Send a Yahoo control message."""
    return _send
