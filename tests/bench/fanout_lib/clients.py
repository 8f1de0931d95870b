"""A client worker process: a few hundred lean WebSocket clients on one epoll loop.

    python -m fanout_lib.clients        (commands on stdin, see `fanout_lib.control`)

The clients share two cores with the server under test, so they cost as little as
Python allows: no asyncio (its per-read machinery cost about as much as the read), one
`select.epoll` loop, `recv_into` a fixed per-client buffer, and `wsparse.scan_frames`,
which counts the window's quotes and records their latency (the read's receive time −
the message's latency base) without parsing JSON. Each client sends the upgrade request
and one subscribe message (`{"op":"subscribe","symbols":[…]}`, the same for every
gateway); pings are answered; a close or a reset ends the client.

Commands: `connect` {host, port, path, lat_key, clients: [[cid, [symbols], slow], …]};
`window` {t0_ms, t1_ms, stall}: reset the tallies, count quotes with t0 ≤ time < t1, and
with `stall` make the slow clients stop reading at t0 (a storm); `resume`: the stalled
clients read again (to learn whether the server dropped them: a dropped client finds the
close frame or the end of the stream behind the data the kernel still held for it);
`progress`; `report`; `quit`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import time
from collections import Counter
from typing import Any

from fanout_lib.wsparse import Tally, client_frame, handshake_request, scan_frames

_KEY = b"ZmFub3V0IGJlbmNoIGtleQ=="  # any 16 bytes, base64: the server only echoes its hash
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA
_SLOW_RCVBUF = 4096  # a stalled reader's kernel buffer stays small: the server holds the rest
_BUFFER = 64 * 1024  # per client; frames here are < 1 KiB
_CONNECT_TIMEOUT = 20.0
_TICK = 0.05  # the loop wakes at least this often to run the stall timer


class BenchClient:
    """One WebSocket client: a socket, a fixed read buffer and a tally."""

    __slots__ = ("buf", "cid", "close_code", "fill", "lost", "sock", "tally", "view")

    def __init__(self, cid: int, sock: socket.socket, lat_key: bytes) -> None:
        self.cid = cid
        self.sock = sock
        self.tally = Tally(lat_key=lat_key)
        self.buf = bytearray(_BUFFER)
        self.view = memoryview(self.buf)
        self.fill = 0
        self.close_code: int | None = None
        self.lost = False

    def open(self, request: bytes, subscribe: bytes) -> None:
        """Upgrade (blocking, bounded by the socket timeout), subscribe, go non-blocking."""
        self.sock.sendall(request)
        head = -1
        while head < 0:
            n = self.sock.recv_into(self.view[self.fill :])
            if not n:
                raise ConnectionError("closed during the upgrade")
            self.fill += n
            head = self.buf.find(b"\r\n\r\n", 0, self.fill)
            if head < 0 and self.fill == len(self.buf):
                raise ConnectionError("oversized upgrade response")
        status = bytes(self.buf[: self.buf.find(b"\r\n")])
        if b" 101 " not in status:
            raise ConnectionError(status.decode(errors="replace"))
        rest = self.fill - head - 4
        self.buf[:rest] = self.buf[head + 4 : self.fill]
        self.fill = rest
        self.sock.sendall(subscribe)
        self.sock.setblocking(False)

    def read(self, now_us: int) -> bool:
        """Read what is there and scan it; False once the connection is over."""
        try:
            n = self.sock.recv_into(self.view[self.fill :])
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            n = 0
        if not n:
            self.lost = True
            return False
        end = self.fill + n
        buf = self.buf
        pos, controls = scan_frames(buf, 0, end, now_us, self.tally)
        if pos < end:
            if pos == 0 and end == len(buf):
                self.lost = True  # a frame larger than the buffer: not a quote stream
                return False
            buf[: end - pos] = buf[pos:end]
        self.fill = end - pos
        for opcode, payload in controls:
            if opcode == _OP_PING:
                self._send(client_frame(_OP_PONG, payload))
            elif opcode == _OP_CLOSE:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._send(client_frame(_OP_CLOSE, payload[:2]))
                self.lost = True
                return False
        return True

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # a control reply that does not fit is dropped
            self.sock.send(data)


class Worker:
    """This process's clients, its epoll loop and its commands."""

    def __init__(self) -> None:
        self.clients: list[BenchClient] = []
        self.by_fd: dict[int, BenchClient] = {}
        self.slow: set[int] = set()
        self.stalled: set[int] = set()
        self.stall_at: float | None = None
        self.poll = select.epoll()

    def connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        host, port, path = cmd["host"], int(cmd["port"]), cmd["path"]
        request = handshake_request(host, port, path, _KEY)
        lat_key = b'"%s":' % cmd["lat_key"].encode()
        errors: list[str] = []
        for cid, symbols, slow in cmd["clients"]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                if slow:  # before connect, so the window is negotiated small
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SLOW_RCVBUF)
                sock.settimeout(_CONNECT_TIMEOUT)
                sock.connect((host, port))
                client = BenchClient(int(cid), sock, lat_key)
                payload = json.dumps({"op": "subscribe", "symbols": list(symbols)}).encode()
                client.open(request, client_frame(_OP_TEXT, payload))
            except (OSError, ConnectionError) as exc:
                sock.close()
                errors.append(f"client {cid}: {exc!r}")
                continue
            self.clients.append(client)
            self.by_fd[sock.fileno()] = client
            self.poll.register(sock.fileno(), select.EPOLLIN)
            if slow:
                self.slow.add(client.cid)
        return {"connected": len(self.clients), "failed": len(errors), "errors": errors[:5]}

    def window(self, cmd: dict[str, Any]) -> dict[str, Any]:
        t0_us, t1_us = int(cmd["t0_ms"]) * 1000, int(cmd["t1_ms"]) * 1000
        for client in self.clients:
            tally = client.tally
            tally.t0_us, tally.t1_us = t0_us, t1_us
            tally.in_window = tally.outside = tally.other = tally.arrived = tally.after = 0
            tally.latencies = type(tally.latencies)("q")
        if cmd.get("stall") and self.slow:
            self.stall_at = t0_us / 1e6
        return {"ok": True}

    def _stall(self) -> None:
        self.stall_at = None
        for client in self.clients:
            if client.cid in self.slow and not client.lost:
                self.poll.unregister(client.sock.fileno())
                self.stalled.add(client.cid)

    def resume(self) -> dict[str, Any]:
        """The stalled clients read again (they stay out of the latency figures)."""
        for client in self.clients:
            if client.cid in self.stalled and not client.lost:
                self.poll.register(client.sock.fileno(), select.EPOLLIN)
        return {"ok": True}

    def progress(self) -> dict[str, Any]:
        """Window quotes received so far by the clients still reading; how many of those
        have not yet read a quote from after the window (they may miss some); how many
        resumed stalled clients are neither dropped nor caught up."""
        reading = [c for c in self.clients if c.cid not in self.stalled and not c.lost]
        stalled = [c for c in self.clients if c.cid in self.stalled]
        return {
            "in_window": sum(c.tally.in_window for c in reading),
            "behind": sum(1 for c in reading if not c.tally.after),
            "stalled_pending": sum(1 for c in stalled if not c.lost and not c.tally.after),
        }

    def report(self) -> dict[str, Any]:
        hist: Counter[int] = Counter()
        n = 0
        worst = 0
        for client in self.clients:
            if client.cid in self.stalled:
                continue
            lats = client.tally.latencies
            n += len(lats)
            if lats:
                worst = max(worst, max(lats))
            hist.update(_bucket(v) for v in lats)
        return {
            "counts": {c.cid: c.tally.in_window for c in self.clients},
            "arrived": sum(c.tally.arrived for c in self.clients),
            "outside": sum(c.tally.outside for c in self.clients),
            "other": sum(c.tally.other for c in self.clients),
            "searched": sum(c.tally.searched for c in self.clients),
            "closed": {c.cid: c.close_code for c in self.clients if c.lost},
            "stalled": sorted(self.stalled),
            "dropped": sorted(c.cid for c in self.clients if c.lost),
            "hist": {str(k): v for k, v in hist.items()},
            "n": n,
            "max_us": worst,
        }

    def command(self, cmd: dict[str, Any]) -> dict[str, Any] | None:
        """Run one command; None for `quit`."""
        name = cmd["cmd"]
        if name == "connect":
            return self.connect(cmd)
        if name == "window":
            return self.window(cmd)
        if name == "progress":
            return self.progress()
        if name == "resume":
            return self.resume()
        if name == "report":
            return self.report()
        if name == "quit":
            return None
        return {"error": f"unknown command {name!r}"}

    def run(self) -> None:
        """Serve commands from stdin and read every client, until stdin closes or `quit`."""
        stdin = sys.stdin.fileno()
        os.set_blocking(stdin, False)
        self.poll.register(stdin, select.EPOLLIN)
        pending = b""
        by_fd = self.by_fd
        clock = time.time_ns
        while True:
            for fd, _ in self.poll.poll(_TICK):
                if fd != stdin:
                    client = by_fd[fd]
                    if not client.read(clock() // 1000):
                        self.poll.unregister(fd)
                    continue
                data = os.read(stdin, 1 << 16)
                if not data:
                    return
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    answer = self.command(json.loads(line))
                    _reply({"ok": True} if answer is None else answer)
                    if answer is None:
                        return
            if self.stall_at is not None and time.time() >= self.stall_at:
                self._stall()


def _reply(message: dict[str, Any]) -> None:
    os.set_blocking(sys.stdout.fileno(), True)
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _bucket(us: int) -> int:
    """Latency rounded down to 3 significant digits (1 µs steps below 1 ms)."""
    if us < 1_000:
        return max(us, 0)
    if us < 10_000:
        return us - us % 10
    if us < 100_000:
        return us - us % 100
    if us < 1_000_000:
        return us - us % 1_000
    return us - us % 10_000


def main() -> None:
    worker = Worker()
    try:
        worker.run()
    finally:
        for client in worker.clients:
            client.sock.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
    sys.exit(0)
