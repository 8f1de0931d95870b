"""Marking a record as an alert: it is spoken whatever its level, and ``"alert": true`` in JSON."""

from __future__ import annotations

from loguru import logger

__all__ = ["alert"]


def alert(message: str, *, level: str = "WARNING", **context: object) -> None:
    """Log ``message`` as an alert, with ``context`` bound to the record.

    ``message`` is logged verbatim (no ``{}`` formatting), from the caller's function and line.
    """
    logger.bind(alert=True, **context).opt(depth=1).log(level, "{}", message)
