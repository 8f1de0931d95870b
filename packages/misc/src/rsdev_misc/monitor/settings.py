"""`MonitorSettings`: the knobs every monitor shares (interval, timeout, thresholds…)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MonitorSettings"]


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    """Common settings; the CLI fills them from flags > environment > config file > defaults."""

    interval: float = 30.0  # seconds between probe starts
    timeout: float = 5.0  # seconds one probe may take
    fail_after: int = 3  # consecutive failed probes before DOWN
    recover_after: int = 2  # consecutive good probes before UP again
    remind_every: float | None = 1800.0  # seconds between reminders while DOWN; None: never
    warn_ms: float | None = None  # a good probe slower than this is a WARNING
    state_file: Path | None = None  # None: no persistence
    metrics_port: int | None = None  # None: no metrics endpoint
    speak: bool = False  # read alerts aloud

    def __post_init__(self) -> None:
        problems = []
        if not self.interval > 0:
            problems.append("interval must be > 0")
        if not self.timeout > 0:
            problems.append("timeout must be > 0")
        if self.fail_after < 1:
            problems.append("fail-after must be >= 1")
        if self.recover_after < 1:
            problems.append("recover-after must be >= 1")
        if self.warn_ms is not None and self.warn_ms < 0:
            problems.append("warn-ms must be >= 0")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            problems.append("metrics-port must be 0..65535")
        if problems:
            raise ValueError("; ".join(problems))
