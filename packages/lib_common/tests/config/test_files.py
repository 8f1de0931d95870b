"""Atomic writes and save_encrypted."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lib_common.config import ConfigFileError, atomic_write, load_config, save_encrypted


def test_atomic_write_creates_0600_file_and_leaves_no_temp(tmp_path: Path) -> None:
    """The written file has mode 0600 and the directory holds nothing else."""
    target = tmp_path / "a.enc"
    atomic_write(target, b"data")
    assert target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["a.enc"]


def test_atomic_write_replaces_and_restores_0600(tmp_path: Path) -> None:
    """Replacing a file that had a loose mode writes 0600 again."""
    target = tmp_path / "a.enc"
    target.write_bytes(b"old")
    target.chmod(0o644)
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_no_overwrite_keeps_existing_file(tmp_path: Path) -> None:
    """overwrite=False refuses an existing target, keeps it, and cleans up its temp file."""
    target = tmp_path / "a.key"
    target.write_bytes(b"keep")
    with pytest.raises(ConfigFileError, match="already exists"):
        atomic_write(target, b"new", overwrite=False)
    assert target.read_bytes() == b"keep"
    assert os.listdir(tmp_path) == ["a.key"]


def test_unwritable_directory_is_config_file_error(tmp_path: Path) -> None:
    """A missing directory is a ConfigFileError naming the target."""
    with pytest.raises(ConfigFileError, match="nodir"):
        atomic_write(tmp_path / "nodir" / "a.enc", b"x")


def test_save_encrypted_then_load_config(tmp_path: Path, key: str) -> None:
    """save_encrypted writes a 0600 encrypted file that load_config reads back."""
    target = tmp_path / "app.enc"
    save_encrypted(target, {"a": [1, 2]}, key)
    assert target.read_bytes().startswith(b"rsdev-config/1 ")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert load_config(target, key=key) == {"a": [1, 2]}
