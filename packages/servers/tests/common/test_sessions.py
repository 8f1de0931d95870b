"""The session hub on a real server with real clients: admission, limits, the read loop."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lib_common.core import Dispatcher, Priority
from lib_common.net import ServerSettings, serve, text_frame
from rsdev_servers.common.security import AccessPolicy
from rsdev_servers.common.sessions import (
    ClientLimits,
    ClientSession,
    SessionHub,
    parse_session_query,
)

pytestmark = pytest.mark.anyio

TOKEN = "sessions-token-0123456789"


class NoSubscriptions:
    def subscribers(self, symbol: str) -> frozenset[int]:
        return frozenset()


class Echo:
    """A tiny gateway: greets, echoes, rejects "bad", remembers who came and went."""

    def __init__(self) -> None:
        self.opened: list[int] = []
        self.closed: list[int] = []
        self.gone = anyio.Event()

    def on_open(self, session: ClientSession) -> None:
        self.opened.append(session.id)
        session.send(text_frame(b'{"type":"hello"}'))

    def on_message(self, session: ClientSession, message: str | bytes) -> None:
        if message == "bad":
            session.reject("bad_request", "that was bad", id=1)
        else:
            text = message if isinstance(message, str) else message.decode()
            session.send(text_frame(json.dumps({"type": "echo", "text": text}).encode()))

    def on_close(self, session: ClientSession) -> None:
        self.closed.append(session.id)
        self.gone.set()


def error_frame(code: str, message: str, extra: Mapping[str, Any]) -> bytes:
    return text_frame(json.dumps({"type": "error", "code": code, **extra}).encode())


class Hub:
    def __init__(self, hub: SessionHub, handler: Echo, port: int) -> None:
        self.hub = hub
        self.handler = handler
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/ws"


@asynccontextmanager
async def running_hub(
    *,
    limits: ClientLimits | None = None,
    policy: AccessPolicy | None = None,
    clock: Callable[[], float] | None = None,
) -> AsyncIterator[Hub]:
    dispatcher: Dispatcher[int] = Dispatcher(NoSubscriptions())
    policy = policy or AccessPolicy()
    hub = SessionHub(
        dispatcher,
        policy,
        limits=limits,
        error_frame=error_frame,
        **({"clock": clock} if clock is not None else {}),
    )
    handler = Echo()

    async def handle(conn: Any) -> None:
        await hub.serve(conn, handler)

    settings = ServerSettings(origins=policy.handshake_origins(), close_timeout=1.0)
    async with serve("127.0.0.1", 0, ws_handler=handle, settings=settings) as server:
        policy.listening_on("127.0.0.1", server.port)
        yield Hub(hub, handler, server.port)


async def recv(ws: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())  # type: ignore[no-any-return]


async def closed_with(ws: ClientConnection) -> int | None:
    with anyio.fail_after(5):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


def test_parse_session_query() -> None:
    """Priority and conflation come from the query; bad values fall back and are reported."""
    assert parse_session_query({"priority": "HIGH"}).priority == Priority.HIGH
    assert parse_session_query({"conflate": "1"}).conflate
    assert not parse_session_query({}).conflate
    bad = parse_session_query({"priority": "urgent", "conflate": "maybe"})
    assert (bad.priority, bad.conflate) == (Priority.NORMAL, False)
    assert len(bad.problems) == 2


async def test_session_lifecycle_and_priority_counts() -> None:
    """A client is greeted, echoed, counted by priority, and forgotten when it leaves."""
    async with running_hub() as hub:
        async with await connect(hub.url + "?priority=high") as ws:
            assert await recv(ws) == {"type": "hello"}
            await ws.send("hi")
            assert await recv(ws) == {"type": "echo", "text": "hi"}
            assert hub.hub.by_priority()["high"] == 1
            assert 1 in hub.hub.dispatcher
        with anyio.fail_after(5):
            await hub.handler.gone.wait()
        assert hub.handler.closed == [1]
        assert hub.hub.sessions == {}
        assert 1 not in hub.hub.dispatcher


async def test_bad_query_is_reported_and_connection_kept() -> None:
    """An unknown priority gets a bad_request error and the normal priority."""
    async with running_hub() as hub, await connect(hub.url + "?priority=urgent") as ws:
        assert (await recv(ws))["type"] == "hello"
        assert (await recv(ws))["code"] == "bad_request"
        assert hub.hub.by_priority()["normal"] == 1
        await ws.send("still here")
        assert (await recv(ws))["type"] == "echo"


async def test_token_and_origin_admission() -> None:
    """Without the token the client is closed 1008 before any data; a foreign Origin is
    refused at the handshake (403)."""
    async with running_hub(policy=AccessPolicy(token=TOKEN)) as hub:
        async with await connect(hub.url) as ws:
            assert await closed_with(ws) == 1008
        async with await connect(hub.url + f"?token={TOKEN}") as ws:
            assert (await recv(ws))["type"] == "hello"
        with pytest.raises(InvalidStatus) as refused:
            await connect(hub.url + f"?token={TOKEN}", origin="http://evil.example")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        assert dict(hub.hub.refused) == {"unauthorized": 1}


async def test_max_clients() -> None:
    """Past the client cap a new client is closed with 1013."""
    async with running_hub(limits=ClientLimits(max_clients=1)) as hub:
        async with await connect(hub.url) as first:
            assert (await recv(first))["type"] == "hello"
            async with await connect(hub.url) as second:
                assert await closed_with(second) == 1013
        assert hub.hub.refused["full"] == 1


async def test_rate_limit_uses_the_injected_clock() -> None:
    """Past the burst, messages are answered rate_limited until the bucket refills."""
    now = [0.0]
    limits = ClientLimits(ops_per_second=1, burst=2, max_errors=10)
    async with running_hub(limits=limits, clock=lambda: now[0]) as hub:
        async with await connect(hub.url) as ws:
            await recv(ws)
            for text in ("a", "b", "c"):
                await ws.send(text)
            assert [(await recv(ws))["type"] for _ in range(3)] == ["echo", "echo", "error"]
            now[0] = 1.0
            await ws.send("d")
            assert await recv(ws) == {"type": "echo", "text": "d"}
        assert hub.hub.errors["rate_limited"] == 1


async def test_error_budget_closes_abusive_client_after_its_errors() -> None:
    """More errors than the budget: the errors are delivered, then close 1008."""
    limits = ClientLimits(max_errors=2, error_window=60)
    async with running_hub(limits=limits) as hub, await connect(hub.url) as ws:
        await recv(ws)
        for _ in range(3):
            await ws.send("bad")
        errors = [await recv(ws) for _ in range(3)]
        assert errors == [{"type": "error", "code": "bad_request", "id": 1}] * 3
        assert await closed_with(ws) == 1008
        assert hub.hub.errors["abuse_closed"] == 1


async def test_close_all() -> None:
    """Shutdown closes every client with the given code."""
    async with running_hub() as hub, await connect(hub.url) as a, await connect(hub.url) as b:
        await recv(a)
        await recv(b)
        hub.hub.close_all(1001, "bye")
        assert [await closed_with(a), await closed_with(b)] == [1001, 1001]


async def test_held_frames_go_out_on_a_drain_tick_without_new_messages() -> None:
    """A client that stops reading has its later frames held in its outbox (not copied
    into its transport); once it reads again, the drain tick writes them — every frame,
    in order, though nothing new was sent."""
    count, payload = 200, "x" * 40_000  # 8 MB: more than the loopback socket buffers
    async with running_hub() as hub, anyio.create_task_group() as tg:
        tg.start_soon(hub.hub.run_drain_ticks, 0.01)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", hub.port))
        async with await connect(hub.url, sock=sock, max_size=None, max_queue=1) as ws:
            assert await recv(ws) == {"type": "hello"}
            (session,) = hub.hub.sessions.values()
            dispatcher = hub.hub.dispatcher
            saw_held = False
            for i in range(count):
                session.send(text_frame(json.dumps({"i": i, "pad": payload}).encode()))
                dispatcher.flush()
                saw_held = saw_held or session.id in dispatcher.held_clients()
            assert saw_held  # the last frames waited in the outbox
            received = [(await recv(ws))["i"] for _ in range(count)]
            assert list(range(count)) == received
            assert () == dispatcher.held_clients()
        tg.cancel_scope.cancel()
