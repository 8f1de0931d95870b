"""Tests for the JSON-lines and human record formats, through real sinks and real files."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from lib_common.logging import JSON_FIELDS, LoggingHandle, alert


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON-lines file, parsed; fails on any line that is not one object."""
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) for record in records)
    return records


def test_every_file_line_is_json_with_the_documented_fields(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """Plain, bound, exception, stdlib-routed and alert records are all complete JSON lines."""
    handle = configure("json-app", log_dir=tmp_path, level="DEBUG")
    logger.bind(symbol="AAPL", attempt=2).info("quote\nwith newline")
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        logger.exception("division failed")
    logging.getLogger("websockets.client").warning("ws closed %s", 1006)
    alert("database down", target="pg")
    handle.complete()

    assert tmp_path / "json-app.jsonl" == handle.log_file
    records = read_json_lines(tmp_path / "json-app.jsonl")
    assert len(records) == 4
    for record in records:
        assert list(JSON_FIELDS) == list(record)
        assert record["app"] == "json-app"
        assert socket.gethostname() == record["host"]
        assert os.getpid() == record["pid"]
        assert record["ts"].endswith("Z")
        assert isinstance(record["ts_us"], int)

    bound, failed, routed, alerted = records
    assert bound["extra"] == {"symbol": "AAPL", "attempt": 2}
    assert bound["message"] == "quote\nwith newline"
    assert (bound["level"], bound["exception"], bound["alert"]) == ("INFO", None, False)
    assert bound["function"] == "test_every_file_line_is_json_with_the_documented_fields"

    assert failed["level"] == "ERROR"
    assert failed["exception"].startswith("Traceback (most recent call last):")
    assert failed["exception"].rstrip().endswith("ZeroDivisionError: boom")

    assert (routed["level"], routed["message"]) == ("WARNING", "ws closed 1006")
    assert routed["logger"] == "websockets.client"

    assert (alerted["alert"], alerted["extra"]) == (True, {"target": "pg"})


def test_json_on_stderr_when_asked(configure: Callable[..., LoggingHandle]) -> None:
    """``json_stderr=True`` writes the same JSON lines to stderr, without colour."""
    stream = io.StringIO()
    configure("journal-app", stderr=stream, json_stderr=True)
    logger.bind(conn=7).warning("slow client")

    (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (
        record["level"],
        record["message"],
        record["extra"],
    ) == ("WARNING", "slow client", {"conn": 7})
    assert "\x1b[" not in stream.getvalue()


def test_braces_and_angle_brackets_pass_through_verbatim(
    configure: Callable[..., LoggingHandle],
) -> None:
    """Message text that looks like format fields or colour tags is printed as it is."""
    stream = io.StringIO()
    configure(stderr=stream)
    logger.info("{}", "<red>{not a field}</red>")
    assert stream.getvalue().split(" - ", 1)[1] == "<red>{not a field}</red>\n"


def test_unencodable_bound_values_become_strings(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """Bound values json cannot encode are written as their str (the line is never lost)."""
    handle = configure(log_dir=tmp_path)
    logger.bind(path=Path("/var/log"), items={1, 2}).info("odd values")
    handle.complete()
    (record,) = read_json_lines(tmp_path / "test-app.jsonl")
    assert record["extra"] == {"path": "/var/log", "items": "{1, 2}"}


def test_unpicklable_bound_values_do_not_lose_the_file_line(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """A bound lock cannot cross loguru's writer queue; the line is still written."""
    handle = configure(log_dir=tmp_path)
    logger.bind(lock=threading.Lock(), n=1).info("with a lock")
    handle.complete()
    (record,) = read_json_lines(tmp_path / "test-app.jsonl")
    assert record["message"] == "with a lock"
    assert record["extra"]["lock"].startswith("<unlocked _thread.lock")
    assert record["extra"]["n"] == 1


def test_human_line_shows_context_and_alert(configure: Callable[..., LoggingHandle]) -> None:
    """The terminal line carries level, origin, message and ``key=value`` context."""
    stream = io.StringIO()
    configure(stderr=stream)
    alert("redis down", target="cache")
    line = stream.getvalue()
    assert " WARNING  " in line
    assert "test_human_line_shows_context_and_alert" in line
    assert line.rstrip().endswith("- redis down alert=True target='cache'")


def test_docs_table_lists_exactly_the_json_fields() -> None:
    """docs/logging.md documents every JSON field, in order, and no others."""
    docs = Path(__file__).resolve().parents[4] / "docs" / "logging.md"
    if not docs.is_file():
        pytest.skip("docs/ is not part of this checkout")
    section = docs.read_text(encoding="utf-8").split("## The JSON record", 1)[1].split("\n## ")[0]
    documented = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    assert documented == list(JSON_FIELDS)
