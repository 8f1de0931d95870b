"""Client side of the wire, sans-I/O: scan server WebSocket frames, count quotes, build frames.

The bench clients must stay cheap (they share two cores with the server under test), so
they do not parse JSON. Per text frame they check that it is a quote (`{"type":"q…`), read
`ts_upstream` (it decides whether the quote belongs to the measured window) and the
latency base that follows it (`ts_library_in` for restream, `ts_feeder` for the peers).
Every gateway writes those timestamps near the end of the message as 16-digit integers,
so after one search on a connection's first quote the fields sit at fixed distances from
the frame's end; each frame still checks the `:` before both numbers and falls back to
searching when the layout differs.
"""

from __future__ import annotations

import base64
import hashlib
from array import array
from dataclasses import dataclass, field

__all__ = [
    "GUID",
    "Tally",
    "accept_key",
    "client_frame",
    "handshake_request",
    "scan_frames",
]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_Q = ord("q")
_T = ord("t")
_COLON = ord(":")
_TS_UPSTREAM = b'"ts_upstream":'
_OP_TEXT = 0x1
_OP_CLOSE = 0x8


@dataclass(slots=True)
class Tally:
    """One connection's counts: quotes inside the window, their latencies (µs), the layout."""

    lat_key: bytes  # b'"ts_library_in":' or b'"ts_feeder":'
    t0_us: int = 0  # window: t0_us <= ts_upstream < t1_us
    t1_us: int = 0
    in_window: int = 0  # quotes whose ts_upstream is in the window
    outside: int = 0  # quotes from before or after the window (warm-up, drain)
    after: int = 0  # quotes from after the window: all window quotes have been sent before
    arrived: int = 0  # quotes read between t0 and t1, whatever their time (throughput)
    other: int = 0  # non-quote frames (acks, snapshots, status)
    searched: int = 0  # quotes whose timestamps had to be searched for
    latencies: array[int] = field(default_factory=lambda: array("q"))
    up_off: int = 0  # distance from the frame's end to ts_upstream's digits (0: unknown)
    lat_off: int = 0


def _learn(buf: bytes | bytearray, start: int, end: int, tally: Tally) -> tuple[int, int] | None:
    """Search one quote for its timestamps; remember their distance from the end."""
    tally.searched += 1
    i = buf.rfind(_TS_UPSTREAM, start, end)
    k = buf.find(tally.lat_key, i, end) if i >= 0 else -1
    if k < 0:
        return None
    i += len(_TS_UPSTREAM)
    k += len(tally.lat_key)
    j = buf.find(b",", i, end)
    j = j if j >= 0 else end - 1
    m = buf.find(b",", k, end)
    m = m if m >= 0 else end - 1
    ts = int(buf[i:j])
    base = int(buf[k:m])
    # the fast path reads 16 digits at fixed distances from the end: only for that shape
    fixed = j - i == 16 and m - k == 16
    tally.up_off = end - i if fixed else 0
    tally.lat_off = end - k if fixed else 0
    return ts, base


def scan_frames(
    buf: bytes | bytearray, pos: int, n: int, now_us: int, tally: Tally
) -> tuple[int, list[tuple[int, bytes]]]:
    """Walk the complete server frames in `buf[pos:n]` (unmasked, RFC 6455 §5.2).

    Every frame counts as received at `now_us` (they came in one read). Returns the
    offset after the last complete frame and the control frames seen, as (opcode, payload).
    """
    early = now_us < tally.t0_us or not tally.t1_us  # a quote is never newer than its read
    t0 = b"%016d" % tally.t0_us  # 16-digit µs times compare as bytes like numbers
    t1 = b"%016d" % tally.t1_us
    append = tally.latencies.append
    up_off = tally.up_off
    lat_off = tally.lat_off
    controls: list[tuple[int, bytes]] = []
    in_window = outside = other = after = 0
    while n - pos >= 2:
        length = buf[pos + 1] & 0x7F
        if length < 126:
            start = pos + 2
        elif length == 126:
            if n - pos < 4:
                break
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            start = pos + 4
        else:
            if n - pos < 10:
                break
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            start = pos + 10
        end = start + length
        if end > n:
            break
        opcode = buf[pos] & 0x0F
        pos = end
        if opcode == _OP_TEXT:
            # {"type":"q… (quote; not snapshot/status/error/pong/indicator): two byte checks
            if length < 40 or buf[start + 9] != _Q or buf[start + 2] != _T:
                other += 1
                continue
            if early:  # read before t0: nothing in it can belong to the window
                outside += 1
                continue
            a = end - up_off
            b = end - lat_off
            if up_off and buf[a - 1] == _COLON and buf[b - 1] == _COLON:
                ts_bytes = buf[a : a + 16]
                if t0 <= ts_bytes < t1:
                    in_window += 1
                    append(now_us - int(buf[b : b + 16]))
                else:
                    outside += 1
                    after += ts_bytes >= t1
                continue
            found = _learn(buf, start, end, tally)
            if found is None:
                other += 1
                continue
            up_off = tally.up_off
            lat_off = tally.lat_off
            ts, base = found
            if tally.t0_us <= ts < tally.t1_us:
                in_window += 1
                append(now_us - base)
            else:
                outside += 1
                after += ts >= tally.t1_us
        elif opcode >= _OP_CLOSE:
            controls.append((opcode, bytes(buf[start:end])))
        else:
            other += 1
    tally.in_window += in_window
    tally.outside += outside
    tally.after += after
    if tally.t0_us <= now_us < tally.t1_us:
        tally.arrived += in_window + outside
    tally.other += other
    return pos, controls


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One complete client frame (FIN set), masked with a zero key so no XOR is needed."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


def handshake_request(host: str, port: int, path: str, key: bytes) -> bytes:
    """The HTTP/1.1 upgrade request of RFC 6455 §4.1 (no extensions: no compression)."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key.decode()}\r\n\r\n"
    ).encode()


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())
