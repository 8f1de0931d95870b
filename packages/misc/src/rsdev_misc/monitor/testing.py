"""Test switches shipped with the loop: a fake clock whose sleep advances time instantly.

    clock = FakeClock()
    loop = MonitorLoop(probe, settings, clock=clock, sleep=clock.sleep)

`clock.sleep` yields to the event loop once (so `run(stop)` can be stopped) but never waits.
"""

from __future__ import annotations

import anyio.lowlevel

__all__ = ["FakeClock"]


class FakeClock:
    """Monotonic and wall clocks that move only when told (or when `sleep` is awaited)."""

    def __init__(self, mono: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.mono = mono
        self.wall = wall
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by `seconds`."""
        self.mono += seconds
        self.wall += seconds

    async def sleep(self, seconds: float) -> None:
        """Advance instead of waiting; one checkpoint so cancellation gets a chance."""
        self.slept.append(seconds)
        self.advance(seconds)
        await anyio.lowlevel.checkpoint()
