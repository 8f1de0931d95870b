"""A minimal DNS client codec (sans-I/O): build an A query, parse the answer (RFC 1035).

Just enough for a connectivity probe: one question, recursion desired, and a response
parser that checks the ID and the QR bit, reads the RCODE and collects IPv4 addresses of A
records (following name compression pointers while skipping names).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = ["RCODES", "DnsAnswer", "DnsError", "build_query", "parse_response"]

TYPE_A = 1
CLASS_IN = 1
_FLAG_QR = 0x8000
_FLAG_RD = 0x0100
_HEADER = struct.Struct("!HHHHHH")

# RFC 1035 §4.1.1 and RFC 6895 names of the response codes a resolver sends.
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DnsError(ValueError):
    """A name that cannot be queried, or a response that is not a valid answer to ours."""


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    rcode: int
    addresses: tuple[str, ...]

    @property
    def rcode_name(self) -> str:
        return RCODES.get(self.rcode, f"RCODE{self.rcode}")


def encode_name(name: str) -> bytes:
    """A domain name as length-prefixed labels (RFC 1035 §3.1), IDNA for non-ASCII."""
    try:
        labels = name.rstrip(".").encode("idna").split(b".")
    except UnicodeError as exc:
        raise DnsError(f"not a valid domain name: {name!r}") from exc
    if not name.rstrip(".") or any(not 0 < len(label) < 64 for label in labels):
        raise DnsError(f"not a valid domain name: {name!r}")
    wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    if len(wire) > 255:
        raise DnsError(f"domain name too long: {name!r}")
    return wire


def build_query(name: str, qid: int, qtype: int = TYPE_A) -> bytes:
    """One question for `name`, recursion desired, message ID `qid`."""
    return (
        _HEADER.pack(qid, _FLAG_RD, 1, 0, 0, 0)
        + encode_name(name)
        + struct.pack("!HH", qtype, CLASS_IN)
    )


def _skip_name(data: bytes, pos: int) -> int:
    """Position just after the (possibly compressed) name starting at `pos`."""
    while True:
        if pos >= len(data):
            raise DnsError("truncated name")
        length = data[pos]
        if length & 0xC0 == 0xC0:  # compression pointer: two bytes, ends the name
            return pos + 2
        if length & 0xC0:
            raise DnsError("bad label type")
        pos += 1 + length
        if length == 0:
            return pos


def parse_response(data: bytes, qid: int) -> DnsAnswer:
    """Parse a response to query `qid`; raise `DnsError` if it is not one."""
    if len(data) < _HEADER.size:
        raise DnsError("response shorter than a DNS header")
    rid, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(data)
    if rid != qid:
        raise DnsError("response ID does not match the query")
    if not flags & _FLAG_QR:
        raise DnsError("not a response (QR bit clear)")
    pos = _HEADER.size
    for _ in range(qdcount):
        pos = _skip_name(data, pos) + 4
    addresses = []
    for _ in range(ancount):
        pos = _skip_name(data, pos)
        if pos + 10 > len(data):
            raise DnsError("truncated answer")
        rtype, rclass, _ttl, rdlength = struct.unpack_from("!HHIH", data, pos)
        pos += 10
        rdata = data[pos : pos + rdlength]
        if len(rdata) != rdlength:
            raise DnsError("truncated answer data")
        if rtype == TYPE_A and rclass == CLASS_IN and rdlength == 4:
            addresses.append(str(ipaddress.IPv4Address(rdata)))
        pos += rdlength
    return DnsAnswer(flags & 0x000F, tuple(addresses))
