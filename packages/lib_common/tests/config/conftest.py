"""Fixtures for the config tests: a clean key environment, a key, and a loguru capture."""

from __future__ import annotations

import base64
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loguru import logger

from lib_common.config import generate_key

_ENV = ("RSDEV_CONFIG_KEY", "RSDEV_CONFIG_KEY_FILE", "EDITOR", "VISUAL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key or editor leaks in from the developer's shell."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def key() -> str:
    """A fresh base64 key."""
    return generate_key()


@pytest.fixture
def key_forms(key: str) -> list[str]:
    """Every way the key's material could appear in text: base64, urlsafe, hex, bytes repr."""
    raw = base64.b64decode(key)
    return [key, base64.urlsafe_b64encode(raw).decode(), raw.hex(), repr(raw)[2:-1], key[:20]]


@pytest.fixture
def key_file(tmp_path: Path, key: str) -> Path:
    """The key in a file with mode 0600."""
    path = tmp_path / "config.key"
    path.write_text(key + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Messages loguru emits while the test runs (level and text)."""
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["level"].name + " " + m.record["message"]))
    yield lines
    logger.remove(handler)


@pytest.fixture
def make_editor(tmp_path: Path) -> Callable[[str], str]:
    """Build an $EDITOR command: a Python script whose body sees `path` (the file to edit)."""

    def make(body: str) -> str:
        script = tmp_path / f"editor{len(list(tmp_path.glob('editor*.py')))}.py"
        script.write_text("import os, sys, pathlib\npath = pathlib.Path(sys.argv[1])\n" + body)
        return f"{shlex.quote(sys.executable)} -S {shlex.quote(str(script))}"

    return make
