"""Tests for lib_common.logging.timefmt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lib_common.logging import datetime_to_us, format_duration, format_utc


def test_format_utc_is_iso_with_microseconds_and_z() -> None:
    """A microsecond timestamp formats as ISO-8601 UTC with six fractional digits and Z."""
    assert format_utc(1_735_787_045_000_006) == "2025-01-02T03:04:05.000006Z"
    assert format_utc(0) == "1970-01-01T00:00:00.000000Z"


def test_datetime_to_us_is_exact_for_any_zone() -> None:
    """Aware datetimes convert to exact epoch microseconds regardless of their zone."""
    moment = datetime(2025, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)
    east = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert 1_735_787_045_999_999 == datetime_to_us(moment) == datetime_to_us(east)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250ms"),
        (0.9999, "999ms"),
        (42, "42s"),
        (192, "3m12s"),
        (7_500, "2h05m"),
        (273_600, "3d04h"),
        (-5, "-5s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    """Durations read as the two largest units."""
    assert text == format_duration(seconds)
