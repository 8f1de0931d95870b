"""One accepted WebSocket connection: inbound messages, outbound frames, close.

Inbound bytes go through websockets' sans-I/O `ServerProtocol` (unmasking, limits, control
frames, the close handshake; every parse error is mapped to a close code there). Outbound
data frames bypass it: a server frame is unmasked and identical for every client, so
`write_frames` puts ready-made frames on the transport with one write and never copies or
re-encodes them. Control frames (pong, close) still come from the protocol object, which
keeps the close handshake correct.

Once closing has begun (a close frame sent or received), incoming data messages are dropped
and counted, and the socket is read regardless of the inbound queue, so the peer's close
reply is never stuck behind unread messages.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from loguru import logger
from websockets.exceptions import ConnectionClosed, InvalidState
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from lib_common.net.frames import binary_frame, text_frame

if TYPE_CHECKING:
    from lib_common.net.http import Headers

__all__ = ["WsConnection"]

Message = str | bytes


class WsConnection:
    """A server-side WebSocket connection; implements `lib_common.net.sink.FrameSink`.

    Reading: `async for message in conn` (ends when the connection closes) or
    `await conn.recv()` (raises `websockets.exceptions.ConnectionClosed`).
    Writing never blocks: `send_text`, `send_bytes` and `write_frames` hand bytes to the
    transport and return; `writable`/`drain()` expose the transport's flow control and
    `buffered_bytes()` its backlog. After `closed` turns true, writes are dropped.
    """

    def __init__(
        self,
        transport: asyncio.Transport,
        protocol: ServerProtocol,
        *,
        path: str,
        query: dict[str, str],
        headers: Headers,
        remote: tuple[str, int] | None,
        max_queue: int,
        close_timeout: float,
    ) -> None:
        self.path = path
        self.query = query
        self.headers = headers
        self.remote = remote
        self._transport = transport
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._max_queue = max_queue
        self._close_timeout = close_timeout
        self._messages: deque[Message] = deque()
        self._recv_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._dropped = 0  # data messages that arrived after closing began
        self._fragments: list[bytes] = []
        self._fragment_opcode: Opcode | None = None
        self._closed = False  # a close frame was sent/received, or the transport is gone
        self._lost = False
        self._lost_event = asyncio.Event()
        self._writable = True
        self._drain_waiter: asyncio.Future[None] | None = None
        self._abort_timer: asyncio.TimerHandle | None = None
        self._pong_due = False  # a keepalive ping is awaiting its pong

    # -- FrameSink -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection is closing or closed: nothing more is written."""
        return self._closed

    def write_frames(self, frames: Sequence[bytes]) -> None:
        """Write complete pre-built frames in order with one transport call (no copy here)."""
        if self._closed:
            return
        if len(frames) == 1:
            self._transport.write(frames[0])
        elif frames:
            # Joined here, one bytes per write: uvloop's writelines would keep a reference
            # to every shared frame in a stalled client's backlog (RSS then measured twice
            # what the memory guard counts); a join is one memcpy, as CPython's asyncio does.
            self._transport.write(b"".join(frames))

    def buffered_bytes(self) -> int:
        """Bytes accepted but not yet sent (the transport's write buffer)."""
        return self._transport.get_write_buffer_size()

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Start the close handshake; the transport is aborted if it does not finish in time.

        `code=None` sends a close frame without a status (the peer reports 1005).
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._protocol.send_close(code, reason if code is not None else "")
        except InvalidState:  # the peer's close frame or an error got there first
            return
        self._flush()

    def abort(self) -> None:
        """Drop the connection at once, no close frame (the peer sees 1006)."""
        self._closed = True
        self._transport.abort()

    # -- convenience writes --------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Send one text message (framed here, not through the protocol object)."""
        if not self._closed:
            self._transport.write(text_frame(text.encode()))

    def send_bytes(self, data: bytes) -> None:
        """Send one binary message."""
        if not self._closed:
            self._transport.write(binary_frame(data))

    def ping(self, data: bytes = b"") -> None:
        """Send a ping; the matching pong clears `pong_due`."""
        if self._closed:
            return
        self._protocol.send_ping(data)
        self._pong_due = True
        self._flush()

    @property
    def pong_due(self) -> bool:
        """True while a keepalive ping has not been answered."""
        return self._pong_due

    @property
    def writable(self) -> bool:
        """False while the transport asked us to pause writing (its buffer is above the mark)."""
        return self._writable

    async def drain(self) -> None:
        """Wait until the transport accepts more data; raises `ConnectionClosed` once lost."""
        if not self._writable and not self._lost:
            if self._drain_waiter is None:
                self._drain_waiter = self._loop.create_future()
            await asyncio.shield(self._drain_waiter)
        if self._lost:
            raise self._protocol.close_exc

    @property
    def dropped_messages(self) -> int:
        """Data messages discarded because they arrived after closing began."""
        return self._dropped

    @property
    def close_code(self) -> int | None:
        """The close code once the connection is closed (1006 when it was dropped)."""
        return self._protocol.close_code if self._lost else None

    async def wait_closed(self) -> None:
        """Wait until the TCP connection is gone."""
        await self._lost_event.wait()

    # -- reading -------------------------------------------------------------------------

    async def recv(self) -> Message:
        """The next message (str for text, bytes for binary); raises `ConnectionClosed`."""
        while not self._messages:
            if self._lost:
                raise self._protocol.close_exc
            if self._recv_waiter is not None:
                raise RuntimeError("another task is already waiting in recv()")
            self._recv_waiter = self._loop.create_future()
            try:
                await self._recv_waiter
            finally:
                self._recv_waiter = None
        message = self._messages.popleft()
        if self._reading_paused and len(self._messages) <= self._max_queue // 2:
            self._reading_paused = False
            self._transport.resume_reading()
        return message

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            try:
                yield await self.recv()
            except ConnectionClosed:
                return

    # -- called by the server's asyncio protocol -----------------------------------------

    def data_received(self, data: bytes) -> None:
        protocol = self._protocol
        protocol.receive_data(data)
        events = protocol.events_received()
        for event in events:
            if isinstance(event, Frame):
                self._handle_frame(event)
        self._flush()

    def eof_received(self) -> None:
        self._protocol.receive_eof()
        self._flush()

    def connection_lost(self) -> None:
        self._closed = True
        self._lost = True
        self._protocol.receive_eof()  # moves the protocol to CLOSED; close_exc is final
        self._protocol.data_to_send()
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self._wake_reader()
        self._writable = True
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        self._lost_event.set()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- internals -----------------------------------------------------------------------

    def _handle_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        data = frame.data if isinstance(frame.data, bytes) else bytes(frame.data)
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._deliver(opcode, data)
            else:
                self._fragment_opcode = opcode
                self._fragments = [data]
        elif opcode is Opcode.CONT:
            self._fragments.append(data)
            if frame.fin and self._fragment_opcode is not None:
                whole = b"".join(self._fragments)
                opcode, self._fragment_opcode, self._fragments = self._fragment_opcode, None, []
                self._deliver(opcode, whole)
        elif opcode is Opcode.PONG:
            self._pong_due = False
        elif opcode is Opcode.CLOSE:
            self._closed = True  # the protocol queued the reply and the EOF
        # PING: the protocol already queued the pong.

    def _deliver(self, opcode: Opcode, data: bytes) -> None:
        if self._closed:
            # RFC 6455 §1.4: after a close frame, data is of no use to anyone. Queueing it
            # would pause reading and hide the peer's close reply behind it.
            self._dropped += 1
            return
        message: Message
        if opcode is Opcode.TEXT:
            try:
                message = data.decode()
            except UnicodeDecodeError as exc:
                # RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection (1007).
                self._closed = True
                self._protocol.fail(1007, f"{exc.reason} at position {exc.start}")
                return
        else:
            message = data
        self._messages.append(message)
        if len(self._messages) >= self._max_queue and not self._reading_paused:
            # Bounded inbound queue: stop reading the socket until the handler catches up.
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake_reader()

    def _wake_reader(self) -> None:
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _flush(self) -> None:
        """Write what the protocol queued (pong, close, EOF), arm the close timer, and
        keep reading while closing (the close reply must not wait behind the queue)."""
        for data in self._protocol.data_to_send():
            if data:
                self._transport.write(data)
            else:
                # Nothing may be written after this (a peer's bare EOF gets here without a
                # close handshake): frames written later would raise in the transport.
                self._closed = True
                if self._transport.can_write_eof():
                    self._transport.write_eof()  # server closes TCP first (RFC 6455 §7.1.1)
                else:
                    self._transport.close()
        if self._abort_timer is None and self._protocol.close_expected() and not self._lost:
            self._closed = True
            self._abort_timer = self._loop.call_later(self._close_timeout, self._close_timed_out)
        if self._closed and self._reading_paused and not self._lost:
            self._reading_paused = False
            self._transport.resume_reading()

    def _close_timed_out(self) -> None:
        if not self._lost:
            logger.debug("websocket close handshake timed out; aborting {}", self.remote)
            self._transport.abort()

    @property
    def state(self) -> State:
        """The sans-I/O protocol's state (OPEN, CLOSING, CLOSED)."""
        return self._protocol.state


if TYPE_CHECKING:
    from lib_common.net.sink import FrameSink

    def _is_a_frame_sink(conn: WsConnection) -> FrameSink:
        return conn  # mypy proves WsConnection satisfies the dispatcher's seam
