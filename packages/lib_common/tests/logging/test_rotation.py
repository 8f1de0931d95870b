"""Tests for daily rotation at midnight, with an injected clock, through loguru's file sink."""

from __future__ import annotations

import gzip
import json
import os
import time as wall
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from loguru import logger

from lib_common.logging import DailyRotation, LoggingHandle


class Clock:
    """A settable clock of aware datetimes."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def messages(lines: list[str]) -> list[str]:
    return [json.loads(line)["message"] for line in lines]


def test_next_boundary_is_the_next_occurrence_of_the_time() -> None:
    """The boundary is later today before the time, tomorrow at or after it."""
    rotation = DailyRotation(time(0, 0), tz=UTC)
    assert datetime(2030, 1, 2, tzinfo=UTC) == rotation.next_boundary(
        datetime(2030, 1, 1, 23, 59, 59, tzinfo=UTC)
    )
    assert datetime(2030, 1, 3, tzinfo=UTC) == rotation.next_boundary(
        datetime(2030, 1, 2, tzinfo=UTC)
    )
    noon = DailyRotation(time(12, 0), tz=UTC)
    assert datetime(2030, 1, 1, 12, tzinfo=UTC) == noon.next_boundary(
        datetime(2030, 1, 1, 8, tzinfo=UTC)
    )


def test_next_boundary_is_midnight_in_the_rotation_zone() -> None:
    """Midnight is the zone's midnight, whatever zone the clock reports in."""
    rotation = DailyRotation(tz=timezone(timedelta(hours=-5)))
    assert datetime(2030, 1, 2, 5, tzinfo=UTC) == rotation.next_boundary(
        datetime(2030, 1, 2, 4, 59, tzinfo=UTC)
    )


def test_next_boundary_across_a_dst_change() -> None:
    """The day the clocks go forward still rolls at local midnight (23-hour day)."""
    paris = ZoneInfo("Europe/Paris")
    rotation = DailyRotation(tz=paris)
    boundary = rotation.next_boundary(datetime(2030, 3, 31, 0, 30, tzinfo=paris))
    assert datetime(2030, 4, 1, tzinfo=paris) == boundary
    assert timedelta(hours=2) == boundary.utcoffset()


def test_file_rolls_at_midnight_and_the_old_one_is_compressed(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """Records before midnight stay in a gzipped rotated file; after it, a fresh file starts."""
    clock = Clock(datetime(2030, 1, 1, 23, 59, 58, tzinfo=UTC))
    handle = configure(log_dir=tmp_path, rotation=DailyRotation(tz=UTC, clock=clock))
    logger.info("late evening")
    logger.info("last second")
    handle.complete()
    clock.now = datetime(2030, 1, 2, 0, 0, 1, tzinfo=UTC)
    logger.info("just after midnight")
    handle.complete()

    (rotated,) = tmp_path.glob("test-app.*.jsonl.gz")
    with gzip.open(rotated, "rt", encoding="utf-8") as old:
        assert messages(old.read().splitlines()) == ["late evening", "last second"]
    current = (tmp_path / "test-app.jsonl").read_text(encoding="utf-8").splitlines()
    assert messages(current) == ["just after midnight"]
    assert {"test-app.jsonl", rotated.name} == {p.name for p in tmp_path.iterdir()}


def test_restart_after_midnight_does_not_append_to_yesterdays_file(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """A file last written before midnight is rolled at the first record after a restart."""
    current = tmp_path / "test-app.jsonl"
    current.write_text('{"message": "yesterday"}\n', encoding="utf-8")
    yesterday = datetime(2030, 1, 1, 22, 0, tzinfo=UTC).timestamp()
    os.utime(current, (yesterday, yesterday))
    clock = Clock(datetime(2030, 1, 2, 8, 0, tzinfo=UTC))
    handle = configure(log_dir=tmp_path, rotation=DailyRotation(tz=UTC, clock=clock))
    logger.info("today")
    handle.complete()

    assert messages(current.read_text(encoding="utf-8").splitlines()) == ["today"]
    assert len(list(tmp_path.glob("test-app.*.jsonl.gz"))) == 1


def test_retention_removes_expired_rotated_files(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """At rotation, rotated files older than the retention are deleted, younger ones kept."""
    expired = tmp_path / "test-app.2029-12-01_00-00-00_000000.jsonl.gz"
    kept = tmp_path / "test-app.2029-12-30_00-00-00_000000.jsonl.gz"
    for path, age_days in ((expired, 20), (kept, 2)):
        path.write_bytes(gzip.compress(b"{}\n"))
        then = wall.time() - age_days * 86_400
        os.utime(path, (then, then))
    clock = Clock(datetime(2030, 1, 1, 23, 59, tzinfo=UTC))
    handle = configure(
        log_dir=tmp_path, retention="14 days", rotation=DailyRotation(tz=UTC, clock=clock)
    )
    logger.info("before")
    handle.complete()
    clock.now += timedelta(minutes=2)
    logger.info("after")
    handle.complete()

    assert not expired.exists()
    assert kept.exists()
