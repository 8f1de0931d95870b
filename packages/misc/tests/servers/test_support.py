"""The fixtures' own rules: missing binaries skip locally but fail in CI; the black hole."""

from __future__ import annotations

import socket

import pytest

from ._support import require_binary
from .redis import BlackHole


def test_missing_binary_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without CI=true a missing server binary skips the test."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_binary("rsdev-no-such-server", "/nonexistent")


def test_missing_binary_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CI=true a missing server binary is a failure, never a silent skip."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_binary("rsdev-no-such-server", "/nonexistent")


def test_black_hole_accepts_and_stays_silent() -> None:
    """A client connects to the black hole, but no byte ever comes back."""
    hole = BlackHole()
    try:
        with socket.create_connection((hole.host, hole.port), timeout=1) as client:
            client.sendall(b"PING\r\n")
            client.settimeout(0.05)
            with pytest.raises(TimeoutError):
                client.recv(1)
    finally:
        hole.close()
