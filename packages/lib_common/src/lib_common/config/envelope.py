"""The on-disk format of an encrypted config (sans-I/O: bytes in, bytes out).

Version 1 is three lines of ASCII, each ending in ``\\n``::

    rsdev-config/1 AES-256-GCM
    <nonce: 12 bytes, base64, 16 characters>
    <ciphertext followed by the 16-byte GCM tag, base64>

The whole first line (without its newline) is the *header*. It is passed to AES-256-GCM as
associated data, so it cannot be altered without decryption failing. A fresh random nonce
is drawn for every encryption. The plaintext is the UTF-8 JSON document.

Parsing is strict — exact layout, canonical base64 — so that changing any single byte of a
file is detected: as a format error in the header, as an authentication failure anywhere
else.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lib_common.config.errors import AuthenticationError, FormatError, UnsupportedVersionError
from lib_common.config.keys import ConfigKey

__all__ = [
    "CIPHER",
    "FORMAT_VERSION",
    "MAGIC",
    "NONCE_SIZE",
    "decrypt_bytes",
    "encrypt_bytes",
    "header_for",
    "is_envelope",
]

MAGIC = b"rsdev-config/"
FORMAT_VERSION = 1
CIPHER = "AES-256-GCM"
NONCE_SIZE = 12

_HEADER = re.compile(rb"rsdev-config/([0-9]{1,6}) ([A-Za-z0-9-]+)")


def header_for(version: int = FORMAT_VERSION) -> bytes:
    """The header line (associated data) for a format version."""
    return MAGIC + f"{version} {CIPHER}".encode("ascii")


def is_envelope(blob: bytes) -> bool:
    """True when the bytes claim to be an rsdev encrypted config (start with the magic)."""
    return blob.startswith(MAGIC)


def encrypt_bytes(plaintext: bytes, key: ConfigKey, *, nonce: bytes | None = None) -> bytes:
    """Encrypt plaintext into a version-1 envelope. `nonce` is for test vectors only."""
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    header = header_for()
    sealed = AESGCM(key.material).encrypt(nonce, plaintext, header)
    return b"\n".join([header, base64.b64encode(nonce), base64.b64encode(sealed), b""])


def decrypt_bytes(blob: bytes, key: ConfigKey, *, name: str) -> bytes:
    """Authenticate and decrypt an envelope; `name` (a file name or URL) goes in errors."""
    lines = blob.split(b"\n")
    if not is_envelope(blob):
        raise FormatError(f"{name}: not an rsdev encrypted config (no 'rsdev-config/' header)")
    header = lines[0]
    match = _HEADER.fullmatch(header)
    if match is None:
        raise FormatError(f"{name}: malformed rsdev encrypted config header")
    version = int(match.group(1))
    if version != FORMAT_VERSION:
        raise UnsupportedVersionError(name, version, FORMAT_VERSION)
    if match.group(2) != CIPHER.encode("ascii"):
        raise FormatError(f"{name}: unsupported cipher in header (expected {CIPHER})")
    # Below the header, every malformation is a modified file: report it as one.
    if len(lines) != 4 or lines[3] != b"":
        raise AuthenticationError(name, "the file does not have the expected three lines")
    nonce = _strict_b64(lines[1], name, "nonce")
    sealed = _strict_b64(lines[2], name, "ciphertext")
    if len(nonce) != NONCE_SIZE:
        raise AuthenticationError(name, "the nonce has the wrong length")
    try:
        return AESGCM(key.material).decrypt(nonce, sealed, header)
    except InvalidTag:
        raise AuthenticationError(name) from None


def _strict_b64(text: bytes, name: str, what: str) -> bytes:
    """Decode base64, refusing anything but the canonical encoding of the decoded bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationError(name, f"the {what} is not valid base64") from None
    # Padding bits a lenient decoder ignores would let a byte change go unnoticed.
    if base64.b64encode(raw) != text:
        raise AuthenticationError(name, f"the {what} is not canonical base64")
    return raw
