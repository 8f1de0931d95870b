"""Complete server→client WebSocket frames, built once and shared by every client.

A server frame is never masked (RFC 6455 §5.1), so the bytes are the same for every
connection: the dispatcher encodes a message once with `text_frame` and hands the same
`bytes` object to each subscriber's `FrameSink.write_frames`. Pure functions, no I/O.
"""

from __future__ import annotations

import struct

__all__ = ["binary_frame", "text_frame"]

# RFC 6455 §5.2: FIN bit set + opcode (0x1 text, 0x2 binary); no RSV bits (no extensions).
_FIN_TEXT = 0x81
_FIN_BINARY = 0x82
_SHORT = struct.Struct("!BBH")  # payload length 126..65535: 7-bit marker 126 + 16-bit length
_LONG = struct.Struct("!BBQ")  # payload length >= 65536: 7-bit marker 127 + 64-bit length


def _frame(first: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return _SHORT.pack(first, 126, n) + payload
    return _LONG.pack(first, 127, n) + payload


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame carrying `payload` (UTF-8, not re-checked)."""
    return _frame(_FIN_TEXT, payload)


def binary_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked binary frame carrying `payload`."""
    return _frame(_FIN_BINARY, payload)
