"""Tests for routing stdlib logging into loguru."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from lib_common.logging import LoggingHandle


def json_records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_stdlib_record_keeps_name_level_and_call_site(
    configure: Callable[..., LoggingHandle],
) -> None:
    """A stdlib record arrives with its logger name, level, message and the caller's line."""
    stream = io.StringIO()
    configure(stderr=stream, json_stderr=True)
    line = sys._getframe().f_lineno + 1
    logging.getLogger("websockets.client").error("handshake failed: %s", "HTTP 403")

    (record,) = json_records(stream)
    assert record["logger"] == "websockets.client"
    assert (record["level"], record["message"]) == ("ERROR", "handshake failed: HTTP 403")
    assert record["function"] == "test_stdlib_record_keeps_name_level_and_call_site"
    assert line == record["line"]


def test_stdlib_exception_is_carried(configure: Callable[..., LoggingHandle]) -> None:
    """``logger.exception`` in stdlib code puts the traceback into the record."""
    stream = io.StringIO()
    configure(stderr=stream, json_stderr=True)
    try:
        raise ConnectionResetError("peer reset")
    except ConnectionResetError:
        logging.getLogger("psycopg").exception("query failed")
    (record,) = json_records(stream)
    assert "ConnectionResetError: peer reset" in record["exception"]


def test_noisy_libraries_default_to_warning(configure: Callable[..., LoggingHandle]) -> None:
    """INFO from websockets/httpx is dropped by default; INFO from other loggers is kept."""
    stream = io.StringIO()
    configure(stderr=stream, json_stderr=True)
    logging.getLogger("websockets.server").info("connection open")
    logging.getLogger("httpx").info("HTTP Request: GET /")
    logging.getLogger("websockets.server").warning("connection lost")
    logging.getLogger("myapp.module").info("kept")
    assert [r["message"] for r in json_records(stream)] == ["connection lost", "kept"]


def test_library_levels_are_configurable(configure: Callable[..., LoggingHandle]) -> None:
    """``library_levels`` replaces the defaults."""
    stream = io.StringIO()
    configure(stderr=stream, json_stderr=True, library_levels={"httpx": "INFO", "chatty": "ERROR"})
    logging.getLogger("httpx").info("HTTP Request: GET /")
    logging.getLogger("chatty").warning("dropped")
    assert [r["message"] for r in json_records(stream)] == ["HTTP Request: GET /"]


def test_root_level_follows_the_lowest_sink(configure: Callable[..., LoggingHandle]) -> None:
    """Libraries see DEBUG as disabled unless a sink keeps DEBUG (their debug paths stay cheap)."""
    configure(level="INFO")
    assert not logging.getLogger("someapp").isEnabledFor(logging.DEBUG)
    configure(level="DEBUG")
    assert logging.getLogger("someapp").isEnabledFor(logging.DEBUG)
