"""`ServerSettings.ws_gate`: refusing a WebSocket handshake with HTTP before the 101."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from lib_common.net import HttpRequest, HttpResponse, ServerSettings, WsConnection, serve

RawExchange = Callable[[int, bytes], Awaitable[bytes]]

TOKEN = "let-me-in"


def token_gate(seen: list[HttpRequest]) -> ServerSettings:
    """Settings whose gate records every request and wants `?token=TOKEN`."""

    def gate(request: HttpRequest) -> HttpResponse | None:
        seen.append(request)
        if request.query.get("token") == TOKEN:
            return None
        return HttpResponse.json(
            {"error": "unauthorized"},
            status=401,
            headers=[("WWW-Authenticate", 'Bearer realm="test"')],
        )

    return ServerSettings(ws_gate=gate, origins=[None, "http://good.example"])


async def echo(conn: WsConnection) -> None:
    async for message in conn:
        conn.send_text(str(message))


UPGRADE = (
    b"GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.anyio
async def test_gate_refusal_is_the_http_response_and_no_handler_runs() -> None:
    """A refused handshake gets the gate's 401 (headers, body) and the handler never runs."""
    seen: list[HttpRequest] = []
    handled: list[WsConnection] = []

    async def record(conn: WsConnection) -> None:
        handled.append(conn)

    async with serve(ws_handler=record, settings=token_gate(seen)) as server:
        url = f"ws://127.0.0.1:{server.port}/feed?token=wrong"
        with anyio.fail_after(2), pytest.raises(InvalidStatus) as refused:
            await connect(url, additional_headers={"X-Client": "t"})
    response = refused.value.response
    assert 401 == response.status_code
    assert 'Bearer realm="test"' == response.headers["WWW-Authenticate"]
    assert {"error": "unauthorized"} == json.loads(response.body)
    assert [] == handled
    request = seen[0]
    assert ("/feed", {"token": "wrong"}) == (request.path, request.query)
    assert "t" == request.headers["X-Client"]
    assert request.remote is not None


@pytest.mark.anyio
async def test_gate_refusal_closes_the_connection(raw_exchange: RawExchange) -> None:
    """After the refusal the server hangs up: no 101, no WebSocket, `Connection: close`."""
    async with serve(ws_handler=echo, settings=token_gate([])) as server:
        answer = await raw_exchange(server.port, UPGRADE)  # returns once the server closes
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 ")
    assert b"connection: close" in head.lower()
    assert b'{"error":"unauthorized"}' == body


@pytest.mark.anyio
async def test_gate_allowing_proceeds_to_a_normal_connection() -> None:
    """A gate returning None lets the handshake through to the handler."""
    seen: list[HttpRequest] = []
    async with (
        serve(ws_handler=echo, settings=token_gate(seen)) as server,
        connect(f"ws://127.0.0.1:{server.port}/?token={TOKEN}") as ws,
    ):
        await ws.send("hi")
        with anyio.fail_after(2):
            assert "hi" == await ws.recv()
    assert 1 == len(seen)


@pytest.mark.anyio
async def test_gate_sees_only_valid_handshakes_from_allowed_origins() -> None:
    """A foreign Origin is refused with 403 by the handshake itself, before the gate."""
    seen: list[HttpRequest] = []
    async with serve(ws_handler=echo, settings=token_gate(seen)) as server:
        url = f"ws://127.0.0.1:{server.port}/?token={TOKEN}"
        with anyio.fail_after(2), pytest.raises(InvalidStatus) as refused:
            await connect(url, origin="http://evil.example")  # type: ignore[arg-type]
    assert 403 == refused.value.response.status_code
    assert [] == seen


@pytest.mark.anyio
async def test_gate_that_raises_refuses_with_500() -> None:
    """A failing gate refuses the handshake (500) instead of letting it through."""

    def broken(request: HttpRequest) -> HttpResponse | None:
        raise RuntimeError("gate bug")

    async with serve(ws_handler=echo, settings=ServerSettings(ws_gate=broken)) as server:
        with anyio.fail_after(2), pytest.raises(InvalidStatus) as refused:
            await connect(f"ws://127.0.0.1:{server.port}/")
    assert 500 == refused.value.response.status_code
