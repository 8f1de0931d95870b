"""Types for running a monitor's entry point from a test: in-process or as a subprocess."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass

# Variables the monitors read: tests start from an environment without them.
MONITOR_ENV = ("DATABASE_URL", "REDIS_URL", "REDIS_USERNAME", "REDIS_PASSWORD", "PGPASSWORD")


@dataclass(frozen=True)
class Outcome:
    """What an in-process `main(argv)` returned and printed."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


RunMain = Callable[..., Outcome]
RunMonitor = Callable[..., "subprocess.CompletedProcess[str]"]
