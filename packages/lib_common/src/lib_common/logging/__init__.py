"""Structured logging for rsdev programs (the seed's "Logrecord"), built on loguru.

``setup_logging(app)`` once at start-up; then ``from loguru import logger`` everywhere, and
``alert(...)`` for things a person must hear about. See docs/logging.md.
"""

from lib_common.logging.alerts import alert
from lib_common.logging.cli import add_logging_arguments, setup_logging_from_args
from lib_common.logging.formats import JSON_FIELDS, render_json
from lib_common.logging.ratelimit import TokenBucket
from lib_common.logging.rotation import DailyRotation
from lib_common.logging.setup import LoggingHandle, setup_logging
from lib_common.logging.speakers import (
    EspeakNG,
    Playback,
    PlaybackUnavailable,
    PygamePlayback,
    Speaker,
    SpeechEngineMissing,
    SpeechError,
)
from lib_common.logging.speech import SpeechConfig, SpeechSink, SpeechStats
from lib_common.logging.stdlib_bridge import DEFAULT_LIBRARY_LEVELS, InterceptHandler
from lib_common.logging.timefmt import datetime_to_us, format_duration, format_utc

__all__ = [
    "DEFAULT_LIBRARY_LEVELS",
    "JSON_FIELDS",
    "DailyRotation",
    "EspeakNG",
    "InterceptHandler",
    "LoggingHandle",
    "Playback",
    "PlaybackUnavailable",
    "PygamePlayback",
    "Speaker",
    "SpeechConfig",
    "SpeechEngineMissing",
    "SpeechError",
    "SpeechSink",
    "SpeechStats",
    "TokenBucket",
    "add_logging_arguments",
    "alert",
    "datetime_to_us",
    "format_duration",
    "format_utc",
    "render_json",
    "setup_logging",
    "setup_logging_from_args",
]
