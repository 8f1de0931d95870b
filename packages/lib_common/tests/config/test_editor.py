"""`edit`: the file is rewritten only after a clean edit, and is byte-identical otherwise."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lib_common.config import (
    AuthenticationError,
    ConfigKey,
    EditError,
    decrypt_document,
    generate_key,
    save_encrypted,
)
from lib_common.config.editor import EditOutcome, edit_file, editor_command

DOC = {"db": {"password": "old"}}


@pytest.fixture
def ckey(key: str) -> ConfigKey:
    """The test key as a ConfigKey."""
    return ConfigKey.from_base64(key, origin="test")


@pytest.fixture
def enc(tmp_path: Path, key: str) -> Path:
    """An encrypted config holding DOC."""
    path = tmp_path / "app.enc"
    save_encrypted(path, DOC, key)
    return path


def test_successful_edit_re_encrypts(
    enc: Path, ckey: ConfigKey, make_editor: Callable[[str], str]
) -> None:
    """An edit that writes a valid JSON object is saved, encrypted, with mode 0600."""
    editor = make_editor('path.write_text(\'{"db": {"password": "new"}}\')\n')
    assert edit_file(enc, ckey, environ={"EDITOR": editor}) == EditOutcome.SAVED
    assert decrypt_document(enc.read_bytes(), ckey) == {"db": {"password": "new"}}
    assert b"new" not in enc.read_bytes()
    assert enc.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "body",
    [
        "path.write_text('{\"db\": ') \n",  # invalid JSON
        "path.write_text('[1, 2]')\n",  # valid JSON, not an object
        "path.write_text('{\"a\": 1}')\nsys.exit(1)\n",  # valid edit, but editor fails
        "sys.exit(3)\n",
    ],
)
def test_failed_edit_leaves_original_byte_identical(
    enc: Path, ckey: ConfigKey, make_editor: Callable[[str], str], body: str
) -> None:
    """Invalid JSON, a non-object, or a non-zero editor exit raise EditError; file untouched."""
    before = enc.read_bytes()
    with pytest.raises(EditError, match=r"unchanged|discarded"):
        edit_file(enc, ckey, environ={"EDITOR": make_editor(body)})
    assert before == enc.read_bytes()


def test_unchanged_content_is_not_rewritten(
    enc: Path, ckey: ConfigKey, make_editor: Callable[[str], str]
) -> None:
    """Saving without changes keeps the same file: bytes, inode and mtime."""
    before = enc.stat()
    content = enc.read_bytes()
    editor = make_editor("path.write_bytes(path.read_bytes())\n")
    assert edit_file(enc, ckey, environ={"EDITOR": editor}) == EditOutcome.UNCHANGED
    after = enc.stat()
    assert content == enc.read_bytes()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_plaintext_is_private_and_removed(
    tmp_path: Path, enc: Path, ckey: ConfigKey, make_editor: Callable[[str], str]
) -> None:
    """The decrypted temp file is 0600 in a 0700 directory, both gone after the edit."""
    report = tmp_path / "report.json"
    editor = make_editor(
        "st = [os.stat(path).st_mode & 0o777, os.stat(path.parent).st_mode & 0o777]\n"
        f"pathlib.Path({str(report)!r}).write_text(__import__('json').dumps([str(path), st]))\n"
    )
    edit_file(enc, ckey, environ={"EDITOR": editor})
    draft, (file_mode, dir_mode) = json.loads(report.read_text())
    assert (file_mode, dir_mode) == (0o600, 0o700)
    assert not os.path.exists(os.path.dirname(draft))
    assert not Path(draft).is_relative_to(enc.parent)


def test_file_changed_during_edit_is_not_clobbered(
    tmp_path: Path, enc: Path, ckey: ConfigKey, key: str, make_editor: Callable[[str], str]
) -> None:
    """If the encrypted file is rewritten while the editor is open, the edit is refused."""
    other = {"written": "by someone else"}
    other_file = tmp_path / "other.enc"
    save_encrypted(other_file, other, key)
    editor = make_editor(
        f"pathlib.Path({str(enc)!r}).write_bytes(pathlib.Path({str(other_file)!r}).read_bytes())\n"
        "path.write_text('{\"mine\": 1}')\n"
    )
    with pytest.raises(EditError, match="changed on disk"):
        edit_file(enc, ckey, environ={"EDITOR": editor})
    assert other == decrypt_document(enc.read_bytes(), ckey)


def test_wrong_key_fails_before_the_editor_opens(
    tmp_path: Path, enc: Path, make_editor: Callable[[str], str]
) -> None:
    """A wrong key raises AuthenticationError and never starts the editor."""
    marker = tmp_path / "editor-ran"
    editor = make_editor(f"pathlib.Path({str(marker)!r}).touch()\n")
    with pytest.raises(AuthenticationError):
        edit_file(
            enc, ConfigKey.from_base64(generate_key(), origin="t"), environ={"EDITOR": editor}
        )
    assert not marker.exists()


def test_missing_editor_is_edit_error(enc: Path, ckey: ConfigKey) -> None:
    """An editor command that does not exist is an EditError; the file is untouched."""
    before = enc.read_bytes()
    with pytest.raises(EditError, match="cannot start editor"):
        edit_file(enc, ckey, environ={"EDITOR": "/nonexistent/editor-xyz"})
    assert before == enc.read_bytes()


def test_editor_choice_editor_then_visual_then_vi() -> None:
    """$EDITOR wins over $VISUAL, which wins over vi; arguments are split like a shell."""
    assert editor_command({"EDITOR": "code --wait", "VISUAL": "emacs"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": " ", "VISUAL": "emacs"}) == ["emacs"]
    assert editor_command({}) == ["vi"]


def test_unparsable_editor_variable_is_edit_error() -> None:
    """An $EDITOR with an unbalanced quote is an EditError, not a crash."""
    with pytest.raises(EditError, match=r"cannot parse \$EDITOR"):
        editor_command({"EDITOR": "vim 'oops"})
