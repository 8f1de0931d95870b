"""The envelope format: layout, round trip, and that any single changed byte is detected."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lib_common.config import (
    AuthenticationError,
    ConfigError,
    ConfigKey,
    FormatError,
    UnsupportedVersionError,
    decrypt_bytes,
    encrypt_bytes,
    generate_key,
)
from lib_common.config.envelope import header_for

PLAINTEXT = b'{"db": {"password": "s3cret"}}\n'


@pytest.fixture
def ckey(key: str) -> ConfigKey:
    """The test key as a ConfigKey."""
    return ConfigKey.from_base64(key, origin="test")


def test_layout_is_header_nonce_ciphertext_lines(ckey: ConfigKey) -> None:
    """Version 1 is three newline-terminated lines: header, 12-byte nonce, ciphertext+tag."""
    blob = encrypt_bytes(PLAINTEXT, ckey)
    header, nonce, sealed, end = blob.split(b"\n")
    assert header == b"rsdev-config/1 AES-256-GCM"
    assert len(base64.b64decode(nonce)) == 12
    assert len(PLAINTEXT) + 16 == len(base64.b64decode(sealed))
    assert end == b""


def test_header_is_bound_as_associated_data(ckey: ConfigKey) -> None:
    """The ciphertext decrypts with AESGCM only when the header is the associated data."""
    _, nonce, sealed, _ = encrypt_bytes(PLAINTEXT, ckey).split(b"\n")
    aead = AESGCM(ckey.material)
    n, s = base64.b64decode(nonce), base64.b64decode(sealed)
    assert aead.decrypt(n, s, header_for(1)) == PLAINTEXT


def test_round_trip_and_fresh_nonce_each_time(ckey: ConfigKey) -> None:
    """Encrypting twice gives different files that both decrypt to the plaintext."""
    a, b = encrypt_bytes(PLAINTEXT, ckey), encrypt_bytes(PLAINTEXT, ckey)
    assert a.split(b"\n")[1] != b.split(b"\n")[1]
    assert decrypt_bytes(a, ckey, name="a.enc") == PLAINTEXT
    assert decrypt_bytes(b, ckey, name="b.enc") == PLAINTEXT


def test_wrong_key_is_authentication_error_naming_the_file(ckey: ConfigKey) -> None:
    """A different key fails with the one 'tampered with or the key is wrong' error."""
    blob = encrypt_bytes(PLAINTEXT, ckey)
    other = ConfigKey.from_base64(generate_key(), origin="other")
    with pytest.raises(AuthenticationError) as info:
        decrypt_bytes(blob, other, name="/etc/rsdev/app.enc")
    assert "/etc/rsdev/app.enc" in str(info.value)
    assert "tampered with or the key is wrong" in str(info.value)


def test_every_single_byte_flip_is_detected(ckey: ConfigKey) -> None:
    """Any one flipped bit fails: in the header line a format error, below it an auth error."""
    blob = encrypt_bytes(PLAINTEXT, ckey)
    header_len = blob.index(b"\n")
    for position in range(len(blob)):
        for bit in (0x01, 0x20, 0x80):
            damaged = bytearray(blob)
            damaged[position] ^= bit
            expected = ConfigError if position <= header_len else AuthenticationError
            with pytest.raises(expected) as info:
                decrypt_bytes(bytes(damaged), ckey, name="f.enc")
            assert "f.enc" in str(info.value)


def test_truncated_or_extended_file_is_detected(ckey: ConfigKey) -> None:
    """Dropping the last byte, a ciphertext byte, or appending data is an auth error."""
    blob = encrypt_bytes(PLAINTEXT, ckey)
    header, nonce, sealed, _ = blob.split(b"\n")
    shorter_ct = b"\n".join([header, nonce, base64.b64encode(base64.b64decode(sealed)[:-1]), b""])
    for damaged in (blob[:-1], blob + b"\n", blob + b"x", shorter_ct):
        with pytest.raises(AuthenticationError):
            decrypt_bytes(damaged, ckey, name="f.enc")


def test_unknown_version_is_unsupported_version_error(ckey: ConfigKey) -> None:
    """A version-2 header is refused as unsupported, naming the file and both versions."""
    blob = encrypt_bytes(PLAINTEXT, ckey).replace(b"rsdev-config/1 ", b"rsdev-config/2 ", 1)
    with pytest.raises(UnsupportedVersionError) as info:
        decrypt_bytes(blob, ckey, name="new.enc")
    assert info.value.version == 2
    assert "new.enc" in str(info.value)
    assert "version 2" in str(info.value)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b'{"a": 1}',
        b"rsdev-config/",
        b"rsdev-config/x AES-256-GCM\n",
        b"rsdev-config/1 ROT13\n",
    ],
)
def test_not_an_envelope_is_format_error(ckey: ConfigKey, blob: bytes) -> None:
    """Empty, plain JSON or a malformed header is a FormatError naming the file."""
    with pytest.raises(FormatError, match=r"x\.enc"):
        decrypt_bytes(blob, ckey, name="x.enc")
