"""The library's wall-clock readings: epoch microseconds and the aware UTC now.

One home for both defaults (message timestamps, `is_trading`'s now, HTTP-date fallbacks).
Standard library only, so ky_http, the engine and the ingestors can all import it without
an import cycle. Durations use monotonic clocks, which callers inject themselves.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["utc_now", "wall_clock_us"]


def wall_clock_us() -> int:
    """Microseconds since the Unix epoch (the `ts_library_in`/`ts_library_out` clock)."""
    return time.time_ns() // 1000


def utc_now() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)
