"""Daily file rotation for loguru with an injectable clock.

loguru accepts any callable ``(message, file) -> bool`` as ``rotation``; this one rolls the file
at the first record at or after a time of day. Its clock can be injected, so tests cross
midnight without waiting. A file that already holds records when the process starts is rolled
at the first record if a boundary passed since it was last written (a restart after midnight
does not append to yesterday's file).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from loguru import Message

__all__ = ["DailyRotation", "parse_daytime"]


def parse_daytime(text: str) -> time | None:
    """``"HH:MM"`` or ``"HH:MM:SS"`` as a time of day, or None when the text is not one."""
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        return None


class DailyRotation:
    """Roll the log file once a day at ``at`` (local time unless ``tz`` is given)."""

    def __init__(
        self,
        at: time = time(0, 0),
        *,
        tz: tzinfo | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._at = at
        self._tz = tz
        # Without a clock the record's own time decides, as loguru's built-in rotation does.
        self._clock = clock
        self._boundary: datetime | None = None

    def next_boundary(self, after: datetime) -> datetime:
        """The first rotation time strictly after the aware datetime ``after``."""
        local = after.astimezone(self._tz)
        day = local.date()
        while True:
            candidate = self._at_on(day)
            if candidate > after:
                return candidate
            day += timedelta(days=1)

    def _at_on(self, day: date) -> datetime:
        naive = datetime.combine(day, self._at)
        if self._tz is None:
            # A naive time read as system local time, with that day's DST offset.
            return naive.astimezone()
        return naive.replace(tzinfo=self._tz)

    def __call__(self, message: Message, file: TextIO) -> bool:
        now = self._clock() if self._clock is not None else message.record["time"]
        if self._boundary is None:
            self._boundary = self.next_boundary(_file_start(file, now))
        if now < self._boundary:
            return False
        self._boundary = self.next_boundary(now)
        return True


def _file_start(file: TextIO, now: datetime) -> datetime:
    """When the current file's contents began: its last write if it has any, else now."""
    stat = os.fstat(file.fileno())
    if stat.st_size == 0:
        return now
    return min(now, datetime.fromtimestamp(stat.st_mtime, tz=UTC))
