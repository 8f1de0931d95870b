"""Route the standard library's ``logging`` (websockets, httpx, asyncio, psycopg…) into loguru.

Each stdlib record is re-emitted through loguru with its level, its exception, the caller's
function and line, and the original logger name as the record's ``name``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

__all__ = [
    "DEFAULT_LIBRARY_LEVELS",
    "InterceptHandler",
    "install_stdlib_bridge",
    "remove_stdlib_bridge",
]

# Libraries that log chattily at INFO/DEBUG; WARNING keeps their problems and drops the noise.
# Their DEBUG logging also costs time on hot paths (websockets logs every frame).
DEFAULT_LIBRARY_LEVELS: Mapping[str, str] = {
    "asyncio": "WARNING",
    "websockets": "WARNING",
    "httpx": "WARNING",
    "httpcore": "WARNING",
    "hpack": "WARNING",
    "psycopg": "WARNING",
    "redis": "WARNING",
}


class InterceptHandler(logging.Handler):
    """A stdlib handler that forwards every record to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        name = record.name

        def keep_name(loguru_record: Record) -> None:
            loguru_record["name"] = name

        logger.patch(keep_name).opt(depth=_caller_depth(), exception=record.exc_info).log(
            level, record.getMessage()
        )


def _caller_depth() -> int:
    """How many frames up from ``emit``'s caller the code that called the stdlib logger sits."""
    frame: FrameType | None = sys._getframe(2)  # the caller of InterceptHandler.emit
    depth = 1
    while frame is not None and _is_logging_frame(frame):
        frame = frame.f_back
        depth += 1
    return depth


def _is_logging_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    return filename == logging.__file__ or ("importlib" in filename and "_bootstrap" in filename)


def install_stdlib_bridge(
    level: int, library_levels: Mapping[str, str | int] = DEFAULT_LIBRARY_LEVELS
) -> InterceptHandler:
    """Make the root logger send everything at ``level`` and above to loguru, and nothing else.

    The root level matters for speed: libraries check ``isEnabledFor`` before building debug
    messages, so it is set to the lowest level any sink keeps rather than to 0.
    """
    handler = InterceptHandler()
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, library_level in library_levels.items():
        logging.getLogger(name).setLevel(library_level)
    return handler


def remove_stdlib_bridge(handler: InterceptHandler, root_level: int) -> None:
    """Detach a handler installed by :func:`install_stdlib_bridge`; restore the root level."""
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(root_level)
