"""The DNS codec: exact query bytes, answers with compression, and refusal of bad replies."""

from __future__ import annotations

import struct

import pytest

from rsdev_misc.monitor_net import DnsError, build_query, parse_response


def test_query_bytes() -> None:
    """An A query for a.test: header with RD, one question, QTYPE A, QCLASS IN."""
    expected = bytes.fromhex("1234 0100 0001 0000 0000 0000") + b"\x01a\x04test\x00\x00\x01\x00\x01"
    assert build_query("a.test.", 0x1234) == expected


def reply(qid: int, flags: int, answers: list[bytes], question: bytes) -> bytes:
    header = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
    return header + question + b"".join(answers)


QUESTION = b"\x01a\x04test\x00\x00\x01\x00\x01"
A_RECORD = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes([127, 0, 0, 2])
CNAME = struct.pack("!HHHIH", 0xC00C, 5, 1, 300, 2) + b"\xc0\x0c"


def test_answer_with_compressed_names() -> None:
    """A CNAME then an A record, names compressed: the address is found."""
    answer = parse_response(reply(7, 0x8180, [CNAME, A_RECORD], QUESTION), 7)
    assert (answer.rcode_name, answer.addresses) == ("NOERROR", ("127.0.0.2",))


def test_nxdomain() -> None:
    """RCODE 3 is reported by name, with no addresses."""
    answer = parse_response(reply(7, 0x8183, [], QUESTION), 7)
    assert (answer.rcode_name, answer.addresses) == ("NXDOMAIN", ())


@pytest.mark.parametrize(
    "data",
    [
        reply(8, 0x8180, [A_RECORD], QUESTION),  # someone else's ID
        reply(7, 0x0100, [A_RECORD], QUESTION),  # a query, not a response
        reply(7, 0x8180, [A_RECORD], QUESTION)[:-3],  # truncated
        b"\x00\x07",  # shorter than a header
    ],
)
def test_bad_responses_are_refused(data: bytes) -> None:
    """Mismatched, non-response and truncated datagrams raise DnsError."""
    with pytest.raises(DnsError):
        parse_response(data, 7)


@pytest.mark.parametrize("name", ["", ".", "a" * 64 + ".test", "x." * 130 + "test"])
def test_invalid_names(name: str) -> None:
    """Empty names, labels over 63 bytes and names over 255 bytes are refused."""
    with pytest.raises(DnsError):
        build_query(name, 1)
