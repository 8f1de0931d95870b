"""The raw limit: pre-encoded frames batched onto bare asyncio transports.

    python -m fanout_lib.gateway_raw --upstream ws://127.0.0.1:P/json [--port 0]

No logic beyond what any fan-out must do: a minimal WebSocket handshake (RFC 6455 §4.2),
per-symbol sets of transports filled from the clients' subscribe messages, and per
upstream message: find the symbol (a byte search, no JSON parse), frame the feeder's
bytes once, append that same `bytes` to each subscriber's pending list; once per
event-loop iteration each dirty client gets one `transport.write` of its pending frames
joined. It is the floor for a Python asyncio gateway: restream's dispatcher does the same
plus decoding, encoding, memory accounting and protocol. Prints
`listening on ws://127.0.0.1:PORT/ws`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections import defaultdict

from websockets.asyncio.client import connect

from fanout_lib.wsparse import accept_key

_SYMBOL = b'"symbol":"'


def _text_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


class RawClient(asyncio.Protocol):
    """A client connection: handshake, then masked client frames (subscribe, close)."""

    def __init__(self, fanout: Fanout) -> None:
        self.fanout = fanout
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.open = False
        self.held: set[bytes] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            key = b""
            for line in self.buf[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n"
            )
            self.open = True
            self.buf = self.buf[end + 4 :]
        while len(self.buf) >= 6:
            length = self.buf[1] & 0x7F
            start = 2
            if length == 126:
                length = int.from_bytes(self.buf[2:4], "big")
                start = 4
            elif length == 127:
                length = int.from_bytes(self.buf[2:10], "big")
                start = 10
            end = start + 4 + length
            if len(self.buf) < start + 4:
                return
            if len(self.buf) < end:
                return
            mask = self.buf[start : start + 4]
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.buf[start + 4 : end]))
            opcode = self.buf[0] & 0x0F
            self.buf = self.buf[end:]
            if opcode == 0x8:
                self.transport.write(b"\x88\x02" + payload[:2])
                self.transport.close()
                return
            if opcode == 0x1:
                self.request(payload)

    def request(self, payload: bytes) -> None:
        try:
            request = json.loads(payload)
            op, symbols = request["op"], request.get("symbols", [])
        except (ValueError, KeyError, TypeError):
            return
        for symbol in symbols:
            key = symbol.encode()
            if op == "subscribe":
                self.fanout.subs[key].add(self)
                self.held.add(key)
            elif op == "unsubscribe":
                self.fanout.subs[key].discard(self)
                self.held.discard(key)

    def connection_lost(self, exc: Exception | None) -> None:
        for key in self.held:
            self.fanout.subs[key].discard(self)
        self.fanout.pending.pop(self, None)


class Fanout:
    """Per-symbol sets, per-client pending frames, one flush per loop iteration."""

    def __init__(self) -> None:
        self.subs: defaultdict[bytes, set[RawClient]] = defaultdict(set)
        self.pending: dict[RawClient, list[bytes]] = {}
        self.flush_scheduled = False

    def publish(self, message: bytes) -> None:
        i = message.find(_SYMBOL) + len(_SYMBOL)
        targets = self.subs.get(message[i : message.index(b'"', i)])
        if not targets:
            return
        frame = _text_frame(message)
        pending = self.pending
        for client in targets:
            frames = pending.get(client)
            if frames is None:
                pending[client] = [frame]
            else:
                frames.append(frame)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        pending, self.pending = self.pending, {}
        for client, frames in pending.items():
            transport = client.transport
            if transport is None or transport.is_closing():
                continue
            transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    async def upstream(self, url: str) -> None:
        async with connect(url, compression=None, max_size=None, ping_interval=None) as up:
            while True:
                message = await up.recv(decode=False)
                self.publish(message)


async def main(args: argparse.Namespace) -> None:
    fanout = Fanout()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(
        lambda: RawClient(fanout), "127.0.0.1", args.port, backlog=2048
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}/ws", flush=True)
    upstream = asyncio.create_task(fanout.upstream(args.upstream))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({upstream, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (upstream, stopped):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the feeder's ws://…/json URL")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    asyncio.run(main(parser.parse_args()))
