"""The outage log (JSON lines, one per finished outage) and the exit summary.

Each line: ``kind`` (offline | degraded), ``start``/``end`` (UTC ISO-8601), ``duration_s``,
``error_bound_s`` (null when the start is unknown), ``targets_failed``, ``failed_probes``,
``last_error`` and ``continued_after_restart``. Lines are appended and flushed at once, so
the file is complete even if the process is killed afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lib_common.logging.timefmt import format_duration
from rsdev_misc.monitor import ClosedOutage, redact, utc

__all__ = ["OutageLog"]


class OutageLog:
    """Records finished outages (in memory, and in `path` when given)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    def record(self, kind: str, outage: ClosedOutage, targets: Iterable[str]) -> dict[str, Any]:
        """Append one finished outage; returns the record written."""
        entry: dict[str, Any] = {
            "kind": kind,
            "start": utc(outage.start_wall),
            "end": utc(outage.end_wall),
            "duration_s": round(outage.duration_s, 3),
            "error_bound_s": None
            if outage.error_bound_s is None
            else round(outage.error_bound_s, 3),
            "targets_failed": sorted(set(targets)),
            "failed_probes": outage.failed_probes,
            "last_error": None if outage.last_error is None else redact(outage.last_error),
            "continued_after_restart": outage.restored,
        }
        self.records.append(entry)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())
        return entry

    def summary(self) -> str:
        """``offline: 2 outages, total 3m10s, longest 2m00s; degraded: none``."""
        parts = []
        for kind in ("offline", "degraded"):
            durations = [r["duration_s"] for r in self.records if r["kind"] == kind]
            if not durations:
                parts.append(f"{kind}: none")
                continue
            parts.append(
                f"{kind}: {len(durations)} outage(s), total {format_duration(sum(durations))}, "
                f"longest {format_duration(max(durations))}"
            )
        return "; ".join(parts)
