"""SIGTERM with 200 clients connected: every client gets close 1001, the process exits 0."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import anyio
import pytest
from websockets.asyncio.client import ClientConnection

from ..conftest import (
    RestreamProcess,
    close_code,
    is_type,
    next_json,
    open_client,
    send_json,
    wait_for,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CLIENTS = 200


async def test_sigterm_closes_200_clients_with_1001_and_exits_0(
    start_restream: Callable[..., RestreamProcess],
) -> None:
    """All 200 clients see close code 1001; the exit code is 0, within 5 seconds."""
    restream = await anyio.to_thread.run_sync(lambda: start_restream("--demo"))
    clients: list[ClientConnection] = []

    async def connect_some(count: int) -> None:
        for _ in range(count):
            ws = await open_client(restream.ws_url)
            await next_json(ws)  # the status greeting: the session exists
            clients.append(ws)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(connect_some, CLIENTS // 10)
    assert len(clients) == CLIENTS
    await send_json(clients[0], {"op": "subscribe", "symbols": ["AAPL"]})
    await wait_for(clients[0], is_type("quote"))

    codes: list[int | None] = []

    async def watch(ws: ClientConnection) -> None:
        codes.append(await close_code(ws, within=10))

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for ws in clients:
            tg.start_soon(watch, ws)
        restream.proc.send_signal(signal.SIGTERM)
        exit_code = await anyio.to_thread.run_sync(restream.wait, 10.0)
    elapsed = time.monotonic() - started
    assert exit_code == 0, restream.logs()
    assert elapsed < 5.0
    assert codes == [1001] * CLIENTS
