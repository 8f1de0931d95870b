"""Fixtures for the logging tests: a setup that is always undone, and the espeak-ng binary."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lib_common.logging import LoggingHandle, setup_logging


def require_binary(name: str) -> str:
    """The binary's path; skip when missing, except in CI (CI=true) where that is a failure."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def espeak_ng() -> str:
    """Path of the espeak-ng binary (Debian package espeak-ng)."""
    return require_binary("espeak-ng")


@pytest.fixture
def pygame_installed() -> None:
    """Require pygame without importing it here.

    pygame is lib_common's optional ``speech`` extra (rsdev-misc depends on it), so a run of
    lib_common alone skips these tests even in CI; the workspace run always has it.
    """
    if importlib.util.find_spec("pygame") is None:
        pytest.skip("pygame (the lib-common[speech] extra) is not installed")


@pytest.fixture
def configure() -> Iterator[Callable[..., LoggingHandle]]:
    """``setup_logging`` with a private stderr by default; every handle is closed afterwards."""
    handles: list[LoggingHandle] = []

    def _configure(app: str = "test-app", **kwargs: Any) -> LoggingHandle:
        kwargs.setdefault("stderr", io.StringIO())
        handle = setup_logging(app, **kwargs)
        handles.append(handle)
        return handle

    yield _configure
    for handle in handles:
        handle.close()
