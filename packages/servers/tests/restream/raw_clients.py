"""Lean WebSocket clients on raw loopback sockets, for load tests of a real restream.

A library client buffers on its own, so it cannot play a client that never reads; and
fifty of them parsing every frame would cost more CPU than the server under test. These
speak just enough RFC 6455: the opening handshake, masked text frames out, unmasked
frames in (a server never masks, §5.1), so each received message is a byte slice.

- `NeverReader`: handshake, one subscribe, then never reads again; its receive buffer is
  shrunk before `connect` so the kernel absorbs only a few KiB and the backlog stays in
  the server. `wait_dropped` reads at the end, only to see the server end the connection.
- `QuoteReader`: reads as fast as it can (or `pace`d, a slow reader) and keeps, per
  symbol, the count and a digest of every quote payload in arrival order, its last
  `day_volume` (in-order check) and its last payload. Quote frames are byte-identical
  for every client (encoded once), so two readers got the same messages in the same
  order exactly when their digests match.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import SocketStream

__all__ = [
    "NeverReader",
    "QuoteReader",
    "ServerFrames",
    "SymbolLog",
    "connect_raw",
    "masked_text_frame",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_QUOTE_PREFIX = b'{"type":"quote","symbol":"'
_VOLUME_KEY = b'"day_volume":'
OP_TEXT = 0x1
OP_CLOSE = 0x8


async def connect_raw(
    port: int, target: str, *, rcvbuf: int | None = None, within: float = 10.0
) -> tuple[SocketStream, bytes]:
    """Open `ws://127.0.0.1:port{target}`: the stream after the 101, and the bytes that
    arrived with the response (the first frames). `rcvbuf` is set before `connect`, so
    the window the kernel advertises is small from the first segment."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    with anyio.fail_after(within):
        if sock.connect_ex(("127.0.0.1", port)) not in (0, errno.EINPROGRESS):
            sock.close()
            raise ConnectionError(f"cannot connect to 127.0.0.1:{port}")
        await anyio.wait_writable(sock)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            sock.close()
            raise ConnectionError(os.strerror(error))
        stream = await SocketStream.from_socket(sock)
        key = base64.b64encode(os.urandom(16))
        await stream.send(
            b"GET " + target.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
            + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )  # fmt: skip
        response = b""
        while b"\r\n\r\n" not in response:
            response += await stream.receive(4096)
    head, _, rest = response.partition(b"\r\n\r\n")
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    if not head.startswith(b"HTTP/1.1 101") or accept not in head:
        await stream.aclose()
        raise ConnectionError(f"handshake refused: {head[:200]!r}")
    return stream, rest


def masked_text_frame(text: str) -> bytes:
    """One client→server text frame (clients must mask, RFC 6455 §5.3)."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    if n < 126:
        header = bytes((0x81, 0x80 | n))
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return header + mask + masked


class ServerFrames:
    """Incremental parser of unmasked, unfragmented server frames: bytes in, frames out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add received bytes; return the complete frames as (opcode, payload)."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        start = 0
        end = len(buffer)
        while end - start >= 2:
            opcode = buffer[start] & 0x0F
            length = buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if end - start < 4:
                    break
                length = int.from_bytes(buffer[start + 2 : start + 4], "big")
                head = 4
            elif length == 127:
                if end - start < 10:
                    break
                length = int.from_bytes(buffer[start + 2 : start + 10], "big")
                head = 10
            if end - start < head + length:
                break
            frames.append((opcode, bytes(buffer[start + head : start + head + length])))
            start += head + length
        del buffer[:start]
        return frames


def _close_code(payload: bytes) -> int | None:
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


class NeverReader:
    """Subscribes, then never reads: the server's backlog for it only grows."""

    def __init__(self, stream: SocketStream, priority: str) -> None:
        self.stream = stream
        self.priority = priority
        self.port: int = stream.extra(anyio.abc.SocketAttribute.local_port)

    @classmethod
    async def open(
        cls, port: int, symbols: list[str], *, priority: str, rcvbuf: int = 4096
    ) -> NeverReader:
        stream, _ = await connect_raw(port, f"/ws?priority={priority}", rcvbuf=rcvbuf)
        await stream.send(masked_text_frame(json.dumps({"op": "subscribe", "symbols": symbols})))
        return cls(stream, priority)

    async def wait_dropped(self, within: float) -> bool:
        """Read (and drop) what the kernel holds until the server ends the connection:
        True on EOF or reset, False if it is still open after `within` seconds."""
        with anyio.move_on_after(within):
            try:
                while True:
                    await self.stream.receive(65536)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                return True
        return False

    async def aclose(self) -> None:
        await self.stream.aclose()


@dataclass(slots=True)
class SymbolLog:
    """What one client received for one symbol."""

    count: int = 0
    digest: hashlib.blake2b = field(default_factory=lambda: hashlib.blake2b(digest_size=16))
    last_volume: int = -1
    last: bytes = b""
    out_of_order: int = 0  # quotes whose day_volume did not increase


class QuoteReader:
    """Reads quotes and keeps a per-symbol log; `pace` = (bytes, seconds) reads at most
    that many bytes per interval (a slow consumer), None reads as fast as it can."""

    def __init__(
        self,
        stream: SocketStream,
        early: bytes,
        *,
        name: str,
        subscribed: list[str],
        pace: tuple[int, float] | None = None,
        keep_payloads: bool = False,
    ) -> None:
        self.stream = stream
        self.name = name
        self.subscribed = subscribed
        self.pace = pace
        self.keep_payloads = keep_payloads
        self.symbols: dict[str, SymbolLog] = {}
        self.payloads: dict[str, list[bytes]] = {}  # every quote, when keep_payloads
        self.others: list[dict[str, Any]] = []  # every other message: status, acks, errors
        self.close_code: int | None = None
        self.ended = False  # the server closed or dropped the connection
        self.bytes_received = 0
        self._frames = ServerFrames()
        self._early = early
        self._targets: dict[str, int] = {}
        self._caught_up = anyio.Event()

    @classmethod
    async def open(
        cls,
        port: int,
        symbols: list[str],
        *,
        name: str,
        query: str = "",
        rcvbuf: int | None = None,
        pace: tuple[int, float] | None = None,
        keep_payloads: bool = False,
    ) -> QuoteReader:
        stream, early = await connect_raw(port, "/ws" + query, rcvbuf=rcvbuf)
        await stream.send(masked_text_frame(json.dumps({"op": "subscribe", "symbols": symbols})))
        return cls(
            stream, early, name=name, subscribed=symbols, pace=pace, keep_payloads=keep_payloads
        )

    async def run(self) -> None:
        """Read until the server closes the connection (or the task is cancelled)."""
        self._feed(self._early)
        try:
            while self.close_code is None:
                pace = self.pace  # None again (`hurry`): read at full speed from now on
                data = await self.stream.receive(pace[0] if pace else 65536)
                self.bytes_received += len(data)
                self._feed(data)
                if pace:
                    await anyio.sleep(pace[1])  # pacing, not synchronisation
        except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
            pass
        finally:
            await self.stream.aclose()
        self.ended = True  # by the server: a cancelled reader is not "ended"
        self._caught_up.set()  # a waiter rechecks; an ended reader never catches up

    def _feed(self, data: bytes) -> None:
        for opcode, payload in self._frames.feed(data):
            if opcode == OP_TEXT:
                if payload.startswith(_QUOTE_PREFIX):
                    self._quote(payload)
                else:
                    self.others.append(json.loads(payload))
            elif opcode == OP_CLOSE:
                self.close_code = _close_code(payload) or 1005

    def _quote(self, payload: bytes) -> None:
        start = len(_QUOTE_PREFIX)
        symbol = payload[start : payload.index(b'"', start)].decode()
        log = self.symbols.get(symbol)
        if log is None:
            log = self.symbols[symbol] = SymbolLog()
        at = payload.index(_VOLUME_KEY) + len(_VOLUME_KEY)
        volume = int(payload[at : payload.index(b",", at)])
        if volume <= log.last_volume:
            log.out_of_order += 1
        log.count += 1
        log.digest.update(payload)
        log.last_volume = volume
        log.last = payload
        if self.keep_payloads:
            self.payloads.setdefault(symbol, []).append(payload)
        target = self._targets.get(symbol)
        if target is not None and volume == target:
            del self._targets[symbol]
            if not self._targets:
                self._caught_up.set()

    def hurry(self) -> None:
        """Stop pacing: read the rest as fast as possible."""
        self.pace = None

    async def wait_for_volumes(self, targets: dict[str, int], within: float) -> None:
        """Wait until the last quote of each symbol carries the target `day_volume`."""
        logs = self.symbols
        self._targets = {
            s: v for s, v in targets.items() if s not in logs or logs[s].last_volume != v
        }
        self._caught_up = anyio.Event()
        if self._targets and not self.ended:
            with anyio.move_on_after(within):
                await self._caught_up.wait()
        if self._targets:
            behind = {
                s: (logs[s].last_volume if s in logs else None, v) for s, v in self._targets.items()
            }
            raise AssertionError(
                f"{self.name} not caught up within {within} s (ended {self.ended}, close"
                f" {self.close_code}, {self.bytes_received} bytes): (last, wanted) {behind}"
            )

    def digests(self) -> dict[str, tuple[int, str]]:
        """Per symbol: (quotes received, digest of their payloads in order)."""
        return {s: (log.count, log.digest.hexdigest()) for s, log in self.symbols.items()}
