"""Loopback peers for monitor-net: TCP listeners, a DNS responder and an HTTP 204 server.

Each can be stopped and started again on the same port, which is how the tests make the
"network" fail and come back. Everything binds 127.0.0.1, port 0 (the kernel picks).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest


class Listener:
    """An asyncio TCP server that accepts and closes; stop() makes connects refused."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.reply = reply  # when set: read the request head, send this, close
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.reply is not None:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(self.reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class DnsResponder(asyncio.DatagramProtocol):
    """Answers every A query with 127.0.0.1 (or with `rcode` and no answer)."""

    def __init__(self) -> None:
        self.rcode = 0
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        qid = data[:2]
        question = data[12:]
        if self.rcode:
            reply = qid + struct.pack("!HHHHH", 0x8180 | self.rcode, 1, 0, 0, 0) + question
        else:
            answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([127, 0, 0, 1])
            reply = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + question + answer
        assert self._transport is not None
        self._transport.sendto(reply, addr)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", self.port)
        )
        self.port = transport.get_extra_info("sockname")[1]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


@pytest.fixture
async def listeners() -> AsyncIterator[Callable[[int], Awaitable[list[Listener]]]]:
    """Factory: `await listeners(3)` starts three TCP listeners; all stopped at the end."""
    made: list[Listener] = []

    async def make(n: int) -> list[Listener]:
        batch = [Listener() for _ in range(n)]
        for listener in batch:
            await listener.start()
        made.extend(batch)
        return batch

    yield make
    for listener in made:
        await listener.stop()


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsResponder]:
    server = DnsResponder()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http_server() -> AsyncIterator[Listener]:
    """Answers every request with 204 No Content (set `.reply` to answer otherwise)."""
    server = Listener(reply=b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    await server.start()
    yield server
    await server.stop()
