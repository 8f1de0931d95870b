"""Pre-built server frames: header layout for each payload length class."""

from __future__ import annotations

import struct

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from lib_common.net import binary_frame, text_frame


def parse(frame: bytes) -> Frame:
    """Parse one unmasked frame with websockets' own (client-side) parser."""
    reader = StreamReader()
    reader.feed_data(frame)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False, max_size=None)
    try:
        next(parser)
    except StopIteration as done:
        result: Frame = done.value
        return result
    raise AssertionError("frame incomplete")


@pytest.mark.parametrize(
    ("size", "header_len"),
    [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (70000, 10)],
)
def test_text_frame_length_classes(size: int, header_len: int) -> None:
    """Payloads use the 7-bit, 16-bit or 64-bit length form at the RFC 6455 boundaries."""
    payload = b"x" * size
    frame = text_frame(payload)
    assert header_len + size == len(frame)
    assert frame[0] == 0x81
    parsed = parse(frame)
    assert parsed.opcode == Opcode.TEXT
    assert parsed.fin
    assert payload == parsed.data


def test_binary_frame_opcode_and_payload() -> None:
    """A binary frame carries opcode 2 and the payload unchanged."""
    frame = binary_frame(b"\x00\xffabc")
    parsed = parse(frame)
    assert parsed.opcode == Opcode.BINARY
    assert parsed.data == b"\x00\xffabc"


def test_sixteen_bit_length_is_big_endian() -> None:
    """The extended 16-bit length is network byte order after the 126 marker."""
    frame = text_frame(b"y" * 300)
    assert struct.unpack("!BBH", frame[:4]) == (0x81, 126, 300)
