"""Keys: generation, parsing, key files and their permissions, precedence."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from lib_common.config import (
    ConfigKey,
    InsecureKeyFileError,
    InvalidKeyError,
    KeyFileError,
    MissingKeyError,
    generate_key,
    load_key,
    read_key_file,
)


def test_generate_key_is_32_random_bytes_in_base64() -> None:
    """A generated key is 44 base64 characters decoding to 32 bytes, different every time."""
    a, b = generate_key(), generate_key()
    assert len(base64.b64decode(a, validate=True)) == 32
    assert len(a) == 44
    assert a != b


def test_repr_and_str_are_redacted(key: str, key_forms: list[str]) -> None:
    """A ConfigKey never shows its material in repr/str/f-strings."""
    k = ConfigKey.from_base64(key, origin="test")
    for text in (repr(k), str(k), f"{k}", repr([k])):
        assert "ConfigKey(<redacted>)" in text
        assert not any(form in text for form in key_forms)


@pytest.mark.parametrize(
    "bad", ["", "not base64!", base64.b64encode(b"x" * 16).decode(), "QUJD" * 20]
)
def test_malformed_key_text_is_refused_without_echoing_it(bad: str) -> None:
    """A wrong-length or non-base64 key raises InvalidKeyError naming its origin, not its text."""
    with pytest.raises(InvalidKeyError) as info:
        ConfigKey.from_base64(bad, origin="environment variable RSDEV_CONFIG_KEY")
    assert "RSDEV_CONFIG_KEY" in str(info.value)
    if bad:
        assert bad not in str(info.value)


def test_key_file_with_0600_is_read(key_file: Path, key: str) -> None:
    """A private key file (trailing newline allowed) yields the key."""
    assert ConfigKey.from_base64(key, origin="t").material == read_key_file(key_file).material


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o610])
def test_group_or_world_accessible_key_file_is_refused(key_file: Path, mode: int) -> None:
    """Any group/other permission bit makes the key file insecure, with a chmod 600 fix."""
    key_file.chmod(mode)
    with pytest.raises(InsecureKeyFileError) as info:
        read_key_file(key_file)
    message = str(info.value)
    assert str(key_file) in message
    assert f"chmod 600 {key_file}" in message
    assert f"{mode:04o}" in message


def test_read_only_owner_key_file_is_accepted(key_file: Path) -> None:
    """Mode 0400 is as private as 0600."""
    key_file.chmod(0o400)
    read_key_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o400


def test_missing_key_file_names_the_file(tmp_path: Path) -> None:
    """A key file that does not exist is a KeyFileError naming it."""
    with pytest.raises(KeyFileError, match=r"nope\.key"):
        read_key_file(tmp_path / "nope.key")


def test_no_key_anywhere_is_missing_key_error() -> None:
    """Without a key argument, key file or environment variable, MissingKeyError says how."""
    with pytest.raises(MissingKeyError, match="RSDEV_CONFIG_KEY"):
        load_key(environ={})


def test_precedence_explicit_then_file_then_env_then_env_file(tmp_path: Path) -> None:
    """key= beats key_file=, which beats RSDEV_CONFIG_KEY, which beats RSDEV_CONFIG_KEY_FILE."""
    keys = [generate_key() for _ in range(4)]
    files = []
    for i in (1, 3):
        f = tmp_path / f"k{i}"
        f.write_text(keys[i])
        f.chmod(0o600)
        files.append(f)
    env = {"RSDEV_CONFIG_KEY": keys[2], "RSDEV_CONFIG_KEY_FILE": str(files[1])}

    def material(i: int) -> bytes:
        return base64.b64decode(keys[i])

    assert material(0) == load_key(key=keys[0], key_file=files[0], environ=env).material
    assert material(1) == load_key(key_file=files[0], environ=env).material
    assert material(2) == load_key(environ=env).material
    assert material(3) == load_key(environ={"RSDEV_CONFIG_KEY_FILE": str(files[1])}).material


def test_raw_bytes_key_must_be_32_bytes() -> None:
    """bytes are raw key material: 32 bytes accepted, anything else refused."""
    assert load_key(key=b"k" * 32).material == b"k" * 32
    with pytest.raises(InvalidKeyError):
        load_key(key=b"k" * 31)
