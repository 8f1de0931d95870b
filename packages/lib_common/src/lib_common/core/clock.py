"""Time as a parameter for the engine's I/O layer: the clocks, the sleep, and a manual clock.

The upstream manager measures durations (linger, grace, hysteresis, poll intervals) on a
monotonic clock and reads the wall clock only to ask the market calendar what session it
is. Both come from one `Clock`, and every wait goes through its `sleep`, so a test can
drive hours of market time in milliseconds with `ManualClock`:

    clock = ManualClock(wall=datetime(2026, 11, 27, 14, 0, tzinfo=UTC).timestamp())
    manager = UpstreamManager(..., clock=clock)
    await clock.advance(30.0)   # wakes every sleeper whose deadline passes, in order
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

import anyio
import anyio.lowlevel

__all__ = ["SYSTEM_CLOCK", "Clock", "ManualClock", "SystemClock", "settle"]


class Clock(Protocol):
    """Monotonic seconds for durations, epoch seconds for the calendar, and a sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock (cancellable); zero or less: just a checkpoint."""
        ...


class SystemClock:
    """The real clocks and the event loop's sleep."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        # A deadline computed a moment ago may have passed (uvloop's timers fire up to a
        # millisecond early); uvloop refuses a negative delay where asyncio returns.
        await anyio.sleep(max(0.0, seconds))


SYSTEM_CLOCK: Clock = SystemClock()


class ManualClock:
    """A test clock: time moves only in `advance`, which wakes sleepers in deadline order.

    After waking each sleeper, `advance` lets every task run until all are blocked again
    (`settle`), so a timer that re-arms itself sees the time at which it fired, not the
    end of the jump.
    """

    def __init__(self, *, mono: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self._mono = mono
        self._offset = wall - mono
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._mono + self._offset

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        entry = (self._mono + seconds, next(self._seq), anyio.Event())
        heapq.heappush(self._sleepers, entry)
        try:
            await entry[2].wait()
        finally:
            if not entry[2].is_set():  # cancelled: forget it
                self._sleepers.remove(entry)
                heapq.heapify(self._sleepers)

    def sleepers(self) -> int:
        """How many tasks are sleeping on this clock."""
        return len(self._sleepers)

    def next_wakeup(self) -> float | None:
        """The earliest sleeper's deadline (monotonic seconds), if any."""
        return self._sleepers[0][0] if self._sleepers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, waking each sleeper at its own deadline."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        await settle()
        target = self._mono + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, event = heapq.heappop(self._sleepers)
            self._mono = max(self._mono, deadline)
            event.set()
            await settle()
        self._mono = target


async def settle() -> None:
    """Return once every other task waits on something (a sleep, an event, a socket).

    On asyncio this yields to the loop until no other task is runnable, checking what
    each task waits on as `anyio.wait_all_tasks_blocked` does, but without its 0.1 s
    pause per busy round (a day of manual time has thousands of wake-ups). Other
    backends use `anyio.wait_all_tasks_blocked`.
    """
    try:
        this = asyncio.current_task()
    except RuntimeError:
        this = None
    if this is None:
        await anyio.wait_all_tasks_blocked()
        return
    while True:
        await asyncio.sleep(0)
        for task in asyncio.all_tasks():
            waiter = getattr(task, "_fut_waiter", None)
            if task is not this and (waiter is None or waiter.done()):
                break
        else:
            return
