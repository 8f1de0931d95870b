"""load_config from files: format detection by content, plain-JSON warning, errors."""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from lib_common.config import (
    AuthenticationError,
    ConfigError,
    ConfigFileError,
    MissingKeyError,
    NotJSONError,
    SourceError,
    UnsupportedVersionError,
    generate_key,
    load_config,
    save_encrypted,
)

DOC = {"db": {"password": "pw"}}


def test_encrypted_file_with_key_from_environment(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With RSDEV_CONFIG_KEY set, an encrypted file loads without passing a key."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    monkeypatch.setenv("RSDEV_CONFIG_KEY", key)
    assert load_config(path) == DOC


def test_encrypted_file_with_key_file(tmp_path: Path, key: str, key_file: Path) -> None:
    """key_file= reads the key from a private file."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    assert load_config(str(path), key_file=key_file) == DOC


def test_format_is_detected_by_content_not_extension(
    tmp_path: Path, key: str, log_lines: list[str]
) -> None:
    """An encrypted file named .json is decrypted; plain JSON named .enc is read as JSON."""
    encrypted_json = tmp_path / "looks-plain.json"
    save_encrypted(encrypted_json, DOC, key)
    plain_enc = tmp_path / "looks-encrypted.enc"
    plain_enc.write_text('{"a": 1}')
    assert load_config(encrypted_json, key=key) == DOC
    assert log_lines == []
    assert load_config(plain_enc) == {"a": 1}


def test_plain_json_loads_with_a_warning(tmp_path: Path, log_lines: list[str]) -> None:
    """Plain JSON needs no key and logs one warning naming the file and the fix."""
    path = tmp_path / "dev.json"
    path.write_text('{"debug": true}')
    assert load_config(path) == {"debug": True}
    assert len(log_lines) == 1
    assert log_lines[0].startswith("WARNING ")
    assert str(path) in log_lines[0]
    assert "rsdev-config encrypt" in log_lines[0]


def test_encrypted_file_without_key_is_missing_key_error(tmp_path: Path, key: str) -> None:
    """An encrypted file and no key anywhere raises MissingKeyError."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    with pytest.raises(MissingKeyError):
        load_config(path)


def test_wrong_key_is_authentication_error(tmp_path: Path, key: str) -> None:
    """Loading with a different key raises AuthenticationError naming the file."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    with pytest.raises(AuthenticationError, match=r"app\.enc"):
        load_config(path, key=generate_key())


def test_unknown_version_from_loader(tmp_path: Path, key: str) -> None:
    """A future format version is UnsupportedVersionError, not a decryption failure."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    path.write_bytes(path.read_bytes().replace(b"rsdev-config/1", b"rsdev-config/7", 1))
    with pytest.raises(UnsupportedVersionError, match="version 7"):
        load_config(path, key=key)


def test_garbage_is_not_json_error(tmp_path: Path) -> None:
    """Neither an envelope nor JSON: NotJSONError says it is neither."""
    path = tmp_path / "x.conf"
    path.write_bytes(b"rsdev-konfig/1 AES\nzzz\n")
    with pytest.raises(NotJSONError, match="not an rsdev encrypted config"):
        load_config(path)


def test_top_level_array_is_refused(tmp_path: Path) -> None:
    """load_config returns a dict, so a top-level array is refused."""
    path = tmp_path / "x.json"
    path.write_text("[1]")
    with pytest.raises(NotJSONError, match="JSON object"):
        load_config(path)


def test_missing_file_is_config_file_error(tmp_path: Path) -> None:
    """A path that does not exist raises ConfigFileError naming it."""
    with pytest.raises(ConfigFileError, match=r"absent\.enc"):
        load_config(tmp_path / "absent.enc")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/c.enc", "ftp://127.0.0.1/c.enc", "file:///etc/passwd"]
)
def test_only_https_urls_are_allowed(url: str) -> None:
    """Non-https URLs are refused before any connection is made."""
    with pytest.raises(SourceError, match=r"only https:// URLs"):
        load_config(url)


def test_url_credentials_and_query_are_not_echoed() -> None:
    """A refused URL's user, password and query token stay out of the message."""
    with pytest.raises(SourceError) as info:
        load_config("http://alice:pa55word@127.0.0.1:9/c.enc?token=t0ken")
    message = str(info.value)
    assert "http://127.0.0.1:9/c.enc" in message
    for secret in ("alice", "pa55word", "t0ken"):
        assert secret not in message


def test_library_errors_never_contain_key_material(
    tmp_path: Path, key: str, key_file: Path, key_forms: list[str]
) -> None:
    """Messages, reprs and formatted tracebacks of key-related failures hold no key material."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    damaged = tmp_path / "damaged.enc"
    damaged.write_bytes(path.read_bytes()[:-5] + b"AAAA\n")
    key_file.chmod(0o644)
    attempts: list[Callable[[], object]] = [
        lambda: load_config(damaged, key=key),
        lambda: load_config(path, key=key[:-4]),
        lambda: load_config(path, key=key + "AAAA"),
        lambda: load_config(path, key=base64.b64decode(key)[:31]),
        lambda: load_config(path, key_file=key_file),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigError) as info:
            attempt()
        text = "".join(traceback.format_exception(info.value)) + repr(info.value)
        for form in key_forms:
            assert form not in text
