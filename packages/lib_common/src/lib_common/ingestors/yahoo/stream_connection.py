"""A websockets client connection that can hand text messages to a callback directly.

websockets' asyncio client queues every message and wakes a reader task for it: two
event-loop round trips (plus a queue to the consumer's task) per upstream frame. With
`on_text` set, a complete single-frame text message — every Yahoo frame — is decoded
from UTF-8 and passed to `on_text` inside the socket's read callback, in order, before
the next frame of the same read is parsed. Everything else (fragmented or binary
messages, control frames, the handshake) takes websockets' own path to `recv()`.

A message that is not valid UTF-8 is left to websockets too, which fails the connection
with 1007 as it would without the callback. `on_text` must not block; what it raises
escapes into the event loop's read callback, so it must catch its own errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import DATA_OPCODES, Frame, Opcode
from websockets.protocol import Event

__all__ = ["DirectTextConnection"]


class DirectTextConnection(ClientConnection):
    """`ClientConnection` with an optional direct path for single-frame text messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_text: Callable[[str], None] | None = None
        self._in_fragments = False  # a fragmented message is being assembled

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode in DATA_OPCODES:
            on_text = self.on_text
            if (
                on_text is not None
                and event.fin
                and event.opcode is Opcode.TEXT
                and not self._in_fragments
            ):
                try:
                    text = str(event.data, "utf-8")
                except UnicodeDecodeError:
                    pass  # websockets' assembler fails the connection (1007)
                else:
                    on_text(text)
                    return
            # Fragments keep websockets' path to the end, so their message stays whole.
            self._in_fragments = not event.fin
        super().process_event(event)
