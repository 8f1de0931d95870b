"""``setup_logging``: the one call every rsdev program makes to configure its logs."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from lib_common.logging.formats import human_format, json_format, queued_json_format
from lib_common.logging.rotation import DailyRotation, parse_daytime
from lib_common.logging.speech import SpeechConfig, SpeechSink
from lib_common.logging.stdlib_bridge import (
    DEFAULT_LIBRARY_LEVELS,
    InterceptHandler,
    install_stdlib_bridge,
    remove_stdlib_bridge,
)

if TYPE_CHECKING:
    from loguru import RotationFunction

__all__ = ["LoggingHandle", "setup_logging"]

_active: LoggingHandle | None = None


@dataclass
class LoggingHandle:
    """What :func:`setup_logging` installed; ``close()`` (or leaving ``with``) undoes it."""

    app: str
    log_file: Path | None
    speech: SpeechSink | None
    _handler_ids: list[int] = field(default_factory=list, repr=False)
    _bridge: InterceptHandler | None = field(default=None, repr=False)
    _root_level: int = field(default=logging.WARNING, repr=False)

    def complete(self) -> None:
        """Wait until every record logged so far is written (the file sink is queued)."""
        logger.complete()

    def close(self, timeout: float = 5.0) -> None:
        """Flush, remove the sinks and the stdlib bridge, stop the speech worker. Idempotent."""
        global _active
        logger.complete()
        for handler_id in self._handler_ids:
            with suppress(ValueError):  # already removed by someone calling logger.remove()
                logger.remove(handler_id)  # stops the queued file writer after it drains
        self._handler_ids.clear()
        if self._bridge is not None:
            remove_stdlib_bridge(self._bridge, self._root_level)
            self._bridge = None
        if self.speech is not None:
            self.speech.close(timeout)
        if _active is self:
            logger.configure(extra={})
            _active = None

    def __enter__(self) -> LoggingHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def setup_logging(
    app: str,
    *,
    level: str | int = "INFO",
    log_dir: Path | None = None,
    file_level: str | int | None = None,
    json_stderr: bool = False,
    stderr: TextIO | None = None,
    colorize: bool | None = None,
    rotation: str | RotationFunction = "00:00",
    retention: str | int | timedelta | None = "14 days",
    compression: str | None = "gz",
    library_levels: Mapping[str, str | int] = DEFAULT_LIBRARY_LEVELS,
    speech: SpeechConfig | None = None,
) -> LoggingHandle:
    """Configure loguru (and the stdlib bridge) for program ``app``; replaces a previous setup.

    - stderr (``stderr`` or ``sys.stderr``): human lines at ``level``, coloured only on a TTY
      (``colorize=None``; ``NO_COLOR`` turns colour off, ``FORCE_COLOR`` on), or JSON lines
      when ``json_stderr``.
    - ``log_dir``: JSON lines in ``<log_dir>/<app>.jsonl`` at ``file_level`` (default
      ``level``), written by a background thread, rolled daily at ``rotation`` (``"HH:MM"``
      local time, or anything loguru accepts), old files compressed and removed after
      ``retention``.
    - ``speech``: the spoken-alert sink (off when None).
    - every record carries ``app``, ``host`` and ``pid``; stdlib loggers are routed in, with
      ``library_levels`` applied to noisy libraries.
    """
    global _active
    if _active is not None:
        _active.close()
    with suppress(ValueError):
        logger.remove(0)  # loguru's default stderr sink, present until someone removes it
    logger.configure(extra={"app": app, "host": socket.gethostname()})

    handle = LoggingHandle(app=app, log_file=None, speech=None)
    try:
        floor = _add_sinks(
            handle,
            stream=stderr if stderr is not None else sys.stderr,
            level=level,
            json_stderr=json_stderr,
            colorize=colorize,
            log_dir=log_dir,
            file_level=level if file_level is None else file_level,
            file_options={
                "rotation": _rotation(rotation),
                "retention": retention,
                "compression": compression,
            },
            speech=speech,
        )
        handle._root_level = logging.getLogger().level
        handle._bridge = install_stdlib_bridge(floor, library_levels)
    except BaseException:
        handle.close()  # a bad level or path must not leave half a setup behind
        raise
    _active = handle
    return handle


def _add_sinks(
    handle: LoggingHandle,
    *,
    stream: TextIO,
    level: str | int,
    json_stderr: bool,
    colorize: bool | None,
    log_dir: Path | None,
    file_level: str | int,
    file_options: dict[str, Any],
    speech: SpeechConfig | None,
) -> int:
    """Add the sinks to loguru and ``handle``; returns the lowest level they keep."""
    ids = handle._handler_ids
    if json_stderr:
        ids.append(logger.add(stream, level=level, format=json_format, colorize=False))
    else:
        ids.append(
            logger.add(
                stream,
                level=level,
                format=human_format,
                colorize=_want_colour(stream) if colorize is None else colorize,
                backtrace=False,
                diagnose=False,  # variable values in tracebacks can hold secrets
            )
        )
    floor = _levelno(level)
    if log_dir is not None:
        handle.log_file = Path(log_dir) / f"{handle.app}.jsonl"
        ids.append(
            logger.add(
                handle.log_file,
                level=file_level,
                format=queued_json_format,
                enqueue=True,  # file writes, compression and retention stay off the event loop
                encoding="utf-8",
                **file_options,
            )
        )
        floor = min(floor, _levelno(file_level))
    if speech is not None:
        handle.speech = SpeechSink(speech, app=handle.app)
        # The sink's own filter picks errors and alerts; its handler level only keeps loguru
        # from building records no sink wants (alerts below every sink's level are not spoken).
        ids.append(
            logger.add(
                handle.speech,
                level=min(floor, handle.speech.levelno),
                filter=handle.speech.wants,
                format="{message}",
            )
        )
    return floor


def _levelno(level: str | int) -> int:
    return logger.level(level).no if isinstance(level, str) else level


def _rotation(rotation: str | RotationFunction) -> str | RotationFunction:
    if isinstance(rotation, str) and (daytime := parse_daytime(rotation)) is not None:
        return DailyRotation(daytime)
    return rotation


def _want_colour(stream: TextIO) -> bool:
    """Colour on a terminal only; ``NO_COLOR`` and ``FORCE_COLOR`` override (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
