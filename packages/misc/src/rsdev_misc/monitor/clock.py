"""Time as a parameter: the clock (monotonic + wall) and the sleep the monitor loop uses.

Durations are measured on the monotonic clock (immune to NTP steps and DST); wall-clock
UTC is only for people and for the state file. Tests pass a fake clock whose sleep advances
time instantly, so a day of probing runs in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "Instant", "Sleep", "SystemClock", "real_sleep"]


class Clock(Protocol):
    """The two clocks a monitor needs."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (for durations)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (for people and the state file)."""
        ...


Sleep = Callable[[float], Awaitable[None]]


class SystemClock:
    """The real clocks: `time.monotonic` and `time.time`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


SYSTEM_CLOCK: Clock = SystemClock()


async def real_sleep(seconds: float) -> None:
    """The event loop's sleep (cancellable)."""
    await anyio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Instant:
    """One moment on both clocks."""

    mono: float
    wall: float

    @classmethod
    def now(cls, clock: Clock) -> Instant:
        return cls(clock.monotonic(), clock.time())
