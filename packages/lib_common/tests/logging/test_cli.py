"""Tests for the shared logging command-line options."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from lib_common.logging import LoggingHandle, add_logging_arguments, setup_logging_from_args


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor-demo")
    add_logging_arguments(parser)
    return parser


@pytest.fixture
def handles() -> Iterator[list[LoggingHandle]]:
    opened: list[LoggingHandle] = []
    yield opened
    for handle in opened:
        handle.close()


def test_help_lists_every_logging_option(parser: argparse.ArgumentParser) -> None:
    """--help documents the logging options."""
    text = parser.format_help()
    for option in ("--log-level", "--log-dir", "--log-json", "--speak", "--speak-to-dir"):
        assert option in text


def test_options_configure_file_and_speech(
    parser: argparse.ArgumentParser,
    handles: list[LoggingHandle],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    espeak_ng: str,
) -> None:
    """--log-dir writes the JSON file; --speak-to-dir writes WAV files instead of playing."""
    monkeypatch.setattr("sys.stderr", io.StringIO())
    args = parser.parse_args(
        ["--log-level", "debug", "--log-dir", str(tmp_path), "--speak-to-dir", str(tmp_path)]
    )
    handle = setup_logging_from_args("monitor-demo", args)
    handles.append(handle)
    logger.debug("debug kept")
    logger.error("upstream lost")
    handle.complete()
    assert handle.speech is not None
    assert handle.speech.wait_idle(10.0)

    assert len((tmp_path / "monitor-demo.jsonl").read_text().splitlines()) == 2
    assert len(list(tmp_path.glob("alert-*.wav"))) == 1
