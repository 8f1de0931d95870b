"""Shared command-line options for logging, so every rsdev program spells them the same."""

from __future__ import annotations

import argparse
from pathlib import Path

from lib_common.logging.setup import LoggingHandle, setup_logging
from lib_common.logging.speech import SpeechConfig

__all__ = ["add_logging_arguments", "setup_logging_from_args"]


def add_logging_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--log-level``, ``--log-dir``, ``--log-json``, ``--speak``, ``--speak-to-dir``."""
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-level",
        default="INFO",
        metavar="LEVEL",
        help="lowest level to log: TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR (default INFO)",
    )
    group.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="also write JSON lines to DIR/<program>.jsonl, rolled daily at midnight, "
        "compressed, kept 14 days",
    )
    group.add_argument(
        "--log-json",
        action="store_true",
        help="write JSON lines instead of human lines to stderr (for journald and collectors)",
    )
    group.add_argument(
        "--speak",
        action="store_true",
        help="read errors and alerts aloud with espeak-ng (rate-limited; pygame plays them)",
    )
    group.add_argument(
        "--speak-to-dir",
        type=Path,
        metavar="DIR",
        help="like --speak, but write each spoken alert to DIR/alert-NNNNNN.wav instead of "
        "playing it (for tests and headless machines)",
    )


def setup_logging_from_args(app: str, args: argparse.Namespace) -> LoggingHandle:
    """Call :func:`setup_logging` with the options added by :func:`add_logging_arguments`."""
    speech = None
    if args.speak_to_dir is not None:
        speech = SpeechConfig(wav_dir=args.speak_to_dir)
    elif args.speak:
        speech = SpeechConfig()
    return setup_logging(
        app,
        level=args.log_level.upper(),
        log_dir=args.log_dir,
        json_stderr=args.log_json,
        speech=speech,
    )
