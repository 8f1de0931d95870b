"""Tests for setup_logging: idempotence, colour on terminals only, bound context, close."""

from __future__ import annotations

import io
import logging
import os
import select
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loguru import logger

from lib_common.logging import LoggingHandle, setup_logging

ANSI = "\x1b["


@pytest.fixture
def pty_stream() -> Iterator[tuple[io.TextIOWrapper, int]]:
    """A real terminal: the slave end as a text stream, and the master fd to read from."""
    master, slave = os.openpty()
    stream = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
    yield stream, master
    stream.close()
    os.close(master)


def read_pty(master: int) -> str:
    """What has been written to the terminal so far (it is already there: writes are sync)."""
    chunks = []
    while select.select([master], [], [], 0.5)[0]:
        data = os.read(master, 65536)
        chunks.append(data)
        if len(data) < 65536:
            break
    return b"".join(chunks).decode()


def test_calling_setup_twice_replaces_the_sinks(configure: Callable[..., LoggingHandle]) -> None:
    """A second setup_logging replaces the first: each record is written once."""
    stream = io.StringIO()
    configure(stderr=stream)
    configure(stderr=stream)
    logger.info("once")
    logging.getLogger("someapp").info("once from stdlib")
    assert len(stream.getvalue().splitlines()) == 2


def test_no_colour_when_stderr_is_not_a_terminal(
    configure: Callable[..., LoggingHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain text goes to a stream that is not a TTY."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    stream = io.StringIO()
    configure(stderr=stream)
    logger.error("plain")
    assert "plain" in stream.getvalue()
    assert ANSI not in stream.getvalue()


def test_colour_when_stderr_is_a_terminal(
    configure: Callable[..., LoggingHandle],
    pty_stream: tuple[io.TextIOWrapper, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real pseudo-terminal gets ANSI colour codes."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream, master = pty_stream
    configure(stderr=stream)
    logger.error("coloured")
    output = read_pty(master)
    assert "coloured" in output
    assert ANSI in output


def test_no_color_turns_colour_off_on_a_terminal(
    configure: Callable[..., LoggingHandle],
    pty_stream: tuple[io.TextIOWrapper, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NO_COLOR=1 keeps a terminal's output plain."""
    monkeypatch.setenv("NO_COLOR", "1")
    stream, master = pty_stream
    configure(stderr=stream)
    logger.error("uncoloured")
    output = read_pty(master)
    assert "uncoloured" in output
    assert ANSI not in output


def test_close_removes_sinks_and_the_stdlib_bridge(
    configure: Callable[..., LoggingHandle],
) -> None:
    """After close() nothing more reaches the stream, from loguru or from stdlib logging."""
    root_level = logging.getLogger().level
    stream = io.StringIO()
    handle = configure(stderr=stream)
    logger.info("before")
    handle.close()
    handle.close()  # idempotent
    logger.info("after")
    logging.getLogger("someapp").warning("after")
    assert len(stream.getvalue().splitlines()) == 1
    assert not any(type(h).__name__ == "InterceptHandler" for h in logging.getLogger().handlers)
    assert logging.getLogger().level == root_level


def test_a_failed_setup_leaves_nothing_behind(tmp_path: Path) -> None:
    """An unknown level raises, and no sink or stdlib bridge stays installed."""
    stream = io.StringIO()
    with pytest.raises(ValueError):
        setup_logging("bad", stderr=stream, log_dir=tmp_path, file_level="NOPE")
    logger.error("nobody listens")
    logging.getLogger("someapp").error("nobody listens")
    assert stream.getvalue() == ""
    assert not any(type(h).__name__ == "InterceptHandler" for h in logging.getLogger().handlers)
