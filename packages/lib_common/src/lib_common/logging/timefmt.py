"""The one place that turns timestamps and durations into text for people and log records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH", "datetime_to_us", "format_duration", "format_utc"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def datetime_to_us(moment: datetime) -> int:
    """Exact integer microseconds since the Unix epoch of an aware datetime (no float rounding)."""
    return (moment - EPOCH) // _ONE_US


def format_utc(ts_us: int) -> str:
    """ISO-8601 UTC with microseconds, e.g. ``2025-01-02T03:04:05.123456Z``."""
    moment = EPOCH + timedelta(microseconds=ts_us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_duration(seconds: float) -> str:
    """A short human duration: ``850ms``, ``42s``, ``3m12s``, ``2h05m``, ``3d04h``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{int(seconds * 1000)}ms"
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
