"""Config keys: generation, parsing, and where a key comes from.

A key is 32 random bytes (AES-256), written as standard base64 (44 characters). It is held in
a `ConfigKey`, whose repr never shows the material, so a key cannot leak through a log line,
a traceback or an error message by accident.

Precedence (first one present wins):
1. an explicit key passed to the API (`key=`),
2. an explicit key file (`--key-file`, `key_file=`),
3. the environment variable `RSDEV_CONFIG_KEY` (the base64 key itself),
4. the environment variable `RSDEV_CONFIG_KEY_FILE` (a path to a key file).

A key file must not be accessible by group or others (0600 or 0400), like an SSH private key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from typing import TypeAlias

from lib_common.config.errors import (
    InsecureKeyFileError,
    InvalidKeyError,
    KeyFileError,
    MissingKeyError,
)

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KEY_SIZE",
    "ConfigKey",
    "KeyLike",
    "as_key",
    "generate_key",
    "load_key",
    "read_key_file",
]

KEY_ENV = "RSDEV_CONFIG_KEY"
KEY_FILE_ENV = "RSDEV_CONFIG_KEY_FILE"
KEY_SIZE = 32


class ConfigKey:
    """A 32-byte AES-256-GCM key. Its repr and str are redacted; `.material` is the raw key."""

    __slots__ = ("_material",)

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_SIZE:
            raise InvalidKeyError(
                f"a config key must be {KEY_SIZE} bytes, got {len(material)} bytes"
            )
        self._material = bytes(material)

    @classmethod
    def from_base64(cls, text: str | bytes, *, origin: str) -> ConfigKey:
        """Parse base64 key text (surrounding whitespace ignored); `origin` names the source."""
        raw = text.strip()
        try:
            material = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            # The decoder's message may quote characters of the key: never pass it on.
            raise InvalidKeyError(
                f"{origin} is not a valid config key: expected {KEY_SIZE} bytes in base64 "
                "(make one with `rsdev-config keygen`)"
            ) from None
        if len(material) != KEY_SIZE:
            raise InvalidKeyError(
                f"{origin} is not a valid config key: it decodes to {len(material)} bytes, "
                f"expected {KEY_SIZE} (make one with `rsdev-config keygen`)"
            )
        return cls(material)

    @property
    def material(self) -> bytes:
        """The raw 32 key bytes, for the cipher only."""
        return self._material

    def __repr__(self) -> str:
        return "ConfigKey(<redacted>)"

    __str__ = __repr__


KeyLike: TypeAlias = ConfigKey | str | bytes
"""A `ConfigKey`, its base64 text (str), or the 32 raw key bytes (bytes)."""


def as_key(key: KeyLike, *, origin: str = "the key argument") -> ConfigKey:
    """Normalise a `KeyLike` into a `ConfigKey`."""
    if isinstance(key, ConfigKey):
        return key
    if isinstance(key, str):
        return ConfigKey.from_base64(key, origin=origin)
    if len(key) != KEY_SIZE:
        raise InvalidKeyError(
            f"{origin} is not a valid config key: raw key bytes must be {KEY_SIZE} bytes long, "
            f"got {len(key)} (pass base64 text as str)"
        )
    return ConfigKey(key)


def generate_key() -> str:
    """Return a new random key as base64 text (44 characters)."""
    return base64.b64encode(secrets.token_bytes(KEY_SIZE)).decode("ascii")


def read_key_file(path: str | os.PathLike[str]) -> ConfigKey:
    """Read a key file, refusing one that group or others can access."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {name}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        # fstat on the open descriptor: the file we check is the file we read.
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"key file {name} is not a regular file")
        if os.name == "posix" and st.st_mode & 0o077:
            raise InsecureKeyFileError(name, stat.S_IMODE(st.st_mode))
        data = f.read(4096)
    return ConfigKey.from_base64(data, origin=f"key file {name}")


def load_key(
    *,
    key: KeyLike | None = None,
    key_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConfigKey:
    """Find the key by the documented precedence, or raise `MissingKeyError`."""
    if key is not None:
        return as_key(key)
    if key_file is not None:
        return read_key_file(key_file)
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return ConfigKey.from_base64(env[KEY_ENV], origin=f"environment variable {KEY_ENV}")
    if env.get(KEY_FILE_ENV):
        return read_key_file(env[KEY_FILE_ENV])
    raise MissingKeyError(
        f"no config key: set {KEY_ENV} to the base64 key, or {KEY_FILE_ENV} / --key-file "
        "to a key file (make one with `rsdev-config keygen --out FILE`)"
    )
