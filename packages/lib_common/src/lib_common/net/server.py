"""One asyncio server for plain HTTP/1.1 and WebSocket on the same port.

Each TCP connection is an asyncio `Protocol` (callbacks, no per-connection reader task).
Requests are parsed by h11; a `GET` with `Upgrade: websocket` is validated by websockets'
sans-I/O `ServerProtocol`, offered to the optional `ws_gate` (which may refuse it with an
HTTP response before anything is accepted), answered 101 and becomes a `WsConnection`
whose handler runs in the server's task group; any other request goes, body read and
size-checked, to the async HTTP handler. Handler failures close that one connection
(HTTP 500 / WS 1011), never the server. Leaving `serve()` closes every WebSocket with 1001,
stops accepting, waits briefly, then aborts stragglers and cancels the remaining handlers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVarTuple, Unpack, cast

import anyio
import h11
from anyio.abc import TaskGroup
from loguru import logger
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.protocol import OPEN
from websockets.server import ServerProtocol
from websockets.typing import Origin

from lib_common.net.http import (
    HttpHandler,
    HttpRequest,
    HttpResponse,
    error_response_bytes,
    not_found,
)
from lib_common.net.ws import WsConnection

__all__ = ["Server", "ServerSettings", "WsGate", "WsHandler", "serve"]

WsHandler = Callable[[WsConnection], Awaitable[None]]
WsGate = Callable[[HttpRequest], HttpResponse | None]
"""`ws_gate(request)`: None lets a valid WebSocket handshake proceed; an `HttpResponse`
refuses it (sent instead of the 101, then the connection closes). Runs synchronously in
the connection's read callback, so it must be quick and must not block."""
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Limits and timers of a `Server` (seconds and bytes)."""

    max_frame: int = 65536  # largest inbound WS message; larger → close 1009
    max_header: int = 16384  # request line + headers; larger → 431
    max_body: int = 1 << 20  # request body; larger → 413
    max_queue: int = 64  # inbound WS messages buffered before reading pauses
    ws_paths: frozenset[str] | None = None  # upgrade only on these paths (None: any path)
    origins: Sequence[str | None] | None = None  # allowed Origin values (None: any)
    ws_gate: WsGate | None = None  # admission check before the 101 (e.g. an auth token)
    ping_interval: float | None = None  # server keepalive ping; no pong by the next → 1011
    close_timeout: float = 5.0  # close handshake, then abort; also the handler grace
    idle_timeout: float = 60.0  # HTTP keep-alive idle / slow request headers
    shutdown_timeout: float = 2.0  # how long shutdown waits before aborting stragglers
    backlog: int = 2048  # listen backlog: a thousand clients may connect at once


class _Connection(asyncio.Protocol):
    """One TCP connection: HTTP/1.1 until an upgrade, then a `WsConnection`."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._settings = server.settings
        self._transport: asyncio.Transport | None = None
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=server.settings.max_header)
        self._request: h11.Request | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._busy = False  # a handler is producing the response
        self._early_bytes = 0  # bytes received while busy (pipelined requests)
        self._transport_paused = False
        self._handler_scope: anyio.CancelScope | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._closing = False
        self.ws: WsConnection | None = None
        self.remote: tuple[str, int] | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not an `asyncio.Transport` subclass).
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.remote = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        if not self._server.register(self):
            self._transport.abort()
            return
        self._arm_idle()

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        if ws is not None:  # the hot path once upgraded
            ws.data_received(data)
            return
        self._h11.receive_data(data)
        if self._busy:
            # Reading stays on while a handler runs so a vanished client is noticed (and its
            # handler cancelled); a client pipelining too much meanwhile is paused.
            self._early_bytes += len(data)
            if self._early_bytes > self._settings.max_header + self._settings.max_body:
                self._transport_paused = True
                assert self._transport is not None
                self._transport.pause_reading()
            return
        self._drive_http()

    def eof_received(self) -> bool | None:
        if self.ws is not None:
            self.ws.eof_received()
            return None
        if self._busy:
            return None  # like a full close: the transport closes and the handler is cancelled
        self._h11.receive_data(b"")
        self._drive_http()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_idle()
        if self.ws is not None:
            self.ws.connection_lost()
            self._cancel_handler_later()
        elif self._handler_scope is not None:
            # An HTTP handler with nobody to answer to (e.g. a client timeout): stop it now.
            self._handler_scope.cancel()
        self._server.unregister(self)

    def pause_writing(self) -> None:
        if self.ws is not None:
            self.ws.pause_writing()

    def resume_writing(self) -> None:
        if self.ws is not None:
            self.ws.resume_writing()

    # -- HTTP ----------------------------------------------------------------------------

    def _drive_http(self) -> None:
        while not self._busy and not self._closing:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail_http(exc.error_status_hint, str(exc))
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._cancel_idle()
                if not self._start_request(event):
                    return
            elif isinstance(event, h11.Data):
                self._body_size += len(event.data)
                if self._body_size > self._settings.max_body:
                    self._fail_http(413, "request body too large")
                    return
                self._body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._end_request()
            elif isinstance(event, h11.ConnectionClosed):
                self._close_transport()
                return

    def _start_request(self, event: h11.Request) -> bool:
        # h11 bounds only incomplete heads; a complete one that arrived in one read is
        # measured here so the limit holds however the bytes were chunked.
        head = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers.raw_items())
        if head > self._settings.max_header:
            self._fail_http(431, "request header fields too large")
            return False
        declared = _header(event.headers, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._settings.max_body:
            self._fail_http(413, "request body too large")
            return False
        self._request = event
        self._body = []
        self._body_size = 0
        if self._h11.client_is_waiting_for_100_continue:
            self._write(self._h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        return True

    def _end_request(self) -> None:
        event = self._request
        assert event is not None
        assert self._transport is not None
        self._request = None
        target = event.target.decode("ascii", "replace")
        upgrade = _header(event.headers, b"upgrade")
        if (
            event.method == b"GET"
            and upgrade is not None
            and "websocket" in upgrade.lower()
            and self._server.ws_handler is not None
            and (self._settings.ws_paths is None or target.split("?")[0] in self._settings.ws_paths)
        ):
            self._upgrade(event, target)
            return
        request = HttpRequest(
            method=event.method.decode("ascii", "replace"),
            target=target,
            headers=Headers(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()
            ),
            body=b"".join(self._body),
            remote=self.remote,
            http_version=event.http_version.decode("ascii", "replace"),
        )
        self._body = []
        self._busy = True  # one request at a time; pipelined ones wait in h11's buffer
        self._early_bytes = 0
        self._server.spawn(self._run_http, request)

    async def _run_http(self, request: HttpRequest) -> None:
        response: HttpResponse | None = None
        with anyio.CancelScope() as scope:
            self._handler_scope = scope
            try:
                response = await self._server.http_handler(request)
            except Exception:
                logger.exception("HTTP handler failed for {} {}", request.method, request.target)
                response = HttpResponse(500, (), b"internal server error\n", close=True)
        self._handler_scope = None
        if response is None or self._transport is None or self._transport.is_closing():
            return
        self._send_response(request, response)

    def _send_response(self, request: HttpRequest, response: HttpResponse) -> None:
        assert self._transport is not None
        body = response.body
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers.append((b"content-length", str(len(body)).encode()))
        if response.close or self._server.shutting_down:
            headers.append((b"connection", b"close"))
        try:
            out = self._h11.send(h11.Response(status_code=response.status, headers=headers))
            if body and request.method != "HEAD":  # HEAD: headers only, same Content-Length
                out += self._h11.send(h11.Data(data=body))
            out += self._h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            logger.exception("invalid HTTP response for {}", request.target)
            self._fail_http(500, "")
            return
        self._transport.write(out)
        self._busy = False
        if self._h11.our_state is h11.MUST_CLOSE or self._h11.their_state is h11.MUST_CLOSE:
            self._close_transport()
            return
        try:
            self._h11.start_next_cycle()
        except h11.LocalProtocolError:
            self._close_transport()
            return
        if self._transport_paused:
            self._transport_paused = False
            self._transport.resume_reading()
        self._arm_idle()
        self._drive_http()  # a pipelined request may already be buffered

    def _fail_http(self, status: int, detail: str) -> None:
        """The peer sent something unusable: answer with `status` and hang up."""
        if self._closing or self._transport is None:
            return
        self._transport.write(error_response_bytes(status, detail))
        self._close_transport()

    def _close_transport(self) -> None:
        self._closing = True
        self._cancel_idle()
        if self._transport is not None:
            self._transport.close()

    def _arm_idle(self) -> None:
        self._cancel_idle()
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self._settings.idle_timeout, self._idle_expired)

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_expired(self) -> None:
        self._idle_timer = None
        if self.ws is None and not self._busy:
            self._close_transport()

    def close_if_idle(self) -> None:
        """Shutdown: drop an HTTP connection that is between requests."""
        if self.ws is None and not self._busy and self._request is None:
            self._close_transport()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _write(self, data: bytes | None) -> None:
        if data and self._transport is not None:
            self._transport.write(data)

    # -- WebSocket -----------------------------------------------------------------------

    def _upgrade(self, event: h11.Request, target: str) -> None:
        assert self._transport is not None
        settings = self._settings
        headers = Headers(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()
        )
        origins = None
        if settings.origins is not None:
            origins = [None if o is None else Origin(o) for o in settings.origins]
        handshake = ServerProtocol(origins=origins)
        response = handshake.accept(WsRequest(target, headers))
        request = HttpRequest("GET", target, headers, remote=self.remote)
        if response.status_code == 101 and settings.ws_gate is not None:
            # Only a well-formed handshake from an allowed Origin reaches the gate.
            refusal = self._ask_gate(settings.ws_gate, request)
            if refusal is not None:
                self._send_response(request, replace(refusal, close=True))
                return
        self._transport.write(response.serialize())
        if response.status_code != 101:
            self._close_transport()
            return
        # The handshake object has done its job; frames are parsed by a fresh protocol in
        # the OPEN state (no extensions were negotiated, so nothing carries over).
        protocol = ServerProtocol(state=OPEN, max_size=settings.max_frame)
        trailing, _closed = self._h11.trailing_data
        self.ws = WsConnection(
            self._transport,
            protocol,
            path=request.path,
            query=request.query,
            headers=headers,
            remote=self.remote,
            max_queue=settings.max_queue,
            close_timeout=settings.close_timeout,
        )
        self._server.ws_opened(self.ws)
        self._server.spawn(self._run_ws, self.ws)
        if trailing:
            self.ws.data_received(bytes(trailing))

    @staticmethod
    def _ask_gate(gate: WsGate, request: HttpRequest) -> HttpResponse | None:
        try:
            return gate(request)
        except Exception:
            logger.exception("WebSocket gate failed for {} {}", request.target, request.remote)
            return HttpResponse(500, (), b"internal server error\n")

    async def _run_ws(self, conn: WsConnection) -> None:
        handler = self._server.ws_handler
        assert handler is not None
        with anyio.CancelScope() as scope:
            self._handler_scope = scope
            try:
                await handler(conn)
            except ConnectionClosed:
                pass
            except Exception:
                logger.exception("WebSocket handler failed for {} {}", conn.path, conn.remote)
                conn.close(1011, "internal error")
                return
        conn.close(1000, "")

    def _cancel_handler_later(self) -> None:
        """Give a WS handler `close_timeout` to notice the closed connection, then cancel it."""
        scope = self._handler_scope
        if scope is not None:
            asyncio.get_running_loop().call_later(self._settings.close_timeout, scope.cancel)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class Server:
    """A running HTTP + WebSocket server; create it with `serve()`."""

    def __init__(
        self,
        http_handler: HttpHandler,
        ws_handler: WsHandler | None,
        settings: ServerSettings,
    ) -> None:
        self.settings = settings
        self.http_handler = http_handler
        self.ws_handler = ws_handler
        self._tg: TaskGroup | None = None
        self._connections: set[_Connection] = set()
        self._ws: set[WsConnection] = set()
        self._aio_server: asyncio.Server | None = None
        self._all_gone = asyncio.Event()
        self._all_gone.set()
        self.shutting_down = False

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets."""
        return tuple(self._aio_server.sockets) if self._aio_server is not None else ()

    @property
    def port(self) -> int:
        """The bound TCP port (useful after binding port 0)."""
        return int(self.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        """The bound address."""
        return str(self.sockets[0].getsockname()[0])

    @property
    def ws_connections(self) -> frozenset[WsConnection]:
        """The open (or closing) WebSocket connections, a snapshot."""
        return frozenset(self._ws)

    @property
    def connection_count(self) -> int:
        """TCP connections currently open (HTTP and WebSocket)."""
        return len(self._connections)

    async def bind(self, host: str, port: int) -> None:
        """Bind the listening socket (errors such as EADDRINUSE surface here, unwrapped)."""
        loop = asyncio.get_running_loop()
        self._aio_server = await loop.create_server(
            lambda: _Connection(self),
            host,
            port,
            backlog=self.settings.backlog,
            start_serving=False,
        )

    async def start_serving(self, task_group: TaskGroup) -> None:
        """Accept connections; their handlers run in `task_group`."""
        assert self._aio_server is not None
        self._tg = task_group
        await self._aio_server.start_serving()

    def register(self, conn: _Connection) -> bool:
        if self.shutting_down:
            return False
        self._connections.add(conn)
        self._all_gone.clear()
        return True

    def unregister(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        if conn.ws is not None:
            self._ws.discard(conn.ws)
        if not self._connections:
            self._all_gone.set()

    def ws_opened(self, conn: WsConnection) -> None:
        self._ws.add(conn)

    def spawn(self, func: Callable[[Unpack[Ts]], Coroutine[Any, Any, None]], *args: *Ts) -> None:
        assert self._tg is not None
        self._tg.start_soon(func, *args)

    async def run_keepalive(self, interval: float) -> None:
        """Ping every WebSocket each `interval`; one still owing a pong is closed with 1011."""
        while True:
            await anyio.sleep(interval)
            for conn in list(self._ws):
                if conn.closed:
                    continue
                if conn.pong_due:
                    conn.close(1011, "keepalive ping timeout")
                else:
                    conn.ping()

    def close_listener(self) -> None:
        """Stop accepting (idempotent)."""
        if self._aio_server is not None:
            self._aio_server.close()

    async def shutdown(self, code: int = 1001, reason: str = "server shutting down") -> None:
        """Stop accepting, close every WebSocket with `code`, wait, then abort stragglers."""
        self.shutting_down = True
        self.close_listener()
        for ws in list(self._ws):
            ws.close(code, reason)
        for conn in list(self._connections):
            conn.close_if_idle()
        with anyio.move_on_after(self.settings.shutdown_timeout):
            await self._all_gone.wait()
        for conn in list(self._connections):
            conn.abort()
        with anyio.move_on_after(self.settings.close_timeout):
            await self._all_gone.wait()


@asynccontextmanager
async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    http_handler: HttpHandler = not_found,
    ws_handler: WsHandler | None = None,
    settings: ServerSettings | None = None,
) -> AsyncIterator[Server]:
    """Listen on `host:port` (0 = any free port) and serve until the block exits.

    `http_handler(request) -> HttpResponse` answers plain requests (default: 404);
    `ws_handler(conn)` runs once per WebSocket client and the connection closes (1000) when
    it returns, or 1011 when it raises. Without `ws_handler`, upgrades go to `http_handler`.
    `settings.ws_gate` can refuse a handshake with an HTTP response before it is accepted.
    """
    settings = settings or ServerSettings()
    server = Server(http_handler, ws_handler, settings)
    await server.bind(host, port)
    try:
        async with anyio.create_task_group() as tg:
            await server.start_serving(tg)
            if settings.ping_interval is not None:
                tg.start_soon(server.run_keepalive, settings.ping_interval)
            try:
                yield server
            finally:
                with anyio.CancelScope(shield=True):
                    await server.shutdown()
                tg.cancel_scope.cancel()
    finally:
        server.close_listener()
