"""The seam between the dispatcher (what to send) and a connection (how bytes leave).

A `FrameSink` takes ready-made WebSocket frames (header + payload, server→client, so
unmasked) and writes them. The dispatcher builds each frame once and hands the same
`bytes` object to every subscribed client's sink; a sink never copies or re-encodes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class FrameSink(Protocol):
    """One client connection's outbound side, as the dispatcher sees it."""

    @property
    def closed(self) -> bool:
        """True once the connection is closing or closed: write nothing more."""
        ...

    def write_frames(self, frames: Sequence[bytes]) -> None:
        """Write these complete frames in order, as one write to the transport."""
        ...

    def buffered_bytes(self) -> int:
        """Bytes accepted but not yet sent (the transport's write buffer)."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Start a clean WebSocket close with this status code and reason."""
        ...

    def abort(self) -> None:
        """Drop the connection at once (no close handshake)."""
        ...
