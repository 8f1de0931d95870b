"""Waiting on an injected clock: a sleep other code can cut short, and a bounded call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.lowlevel

from lib_common.core.clock import Clock

__all__ = ["TIMED_OUT", "Waker", "within"]

T = TypeVar("T")


class Waker:
    """`await sleep(seconds)` until the time passes or someone calls `wake()`.

    A `wake()` while nobody sleeps is remembered: the next `sleep` returns at once, so a
    change made while the sleeper was busy elsewhere is never missed.
    """

    __slots__ = ("_clock", "_pending", "_scope")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._scope: anyio.CancelScope | None = None
        self._pending = False

    async def sleep(self, seconds: float | None) -> bool:
        """Sleep (None: until woken); True when woken rather than timed out."""
        if self._pending:
            self._pending = False
            await anyio.lowlevel.checkpoint()
            return True
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                if seconds is None:
                    await anyio.sleep_forever()
                else:
                    await self._clock.sleep(max(0.0, seconds))
            finally:
                self._scope = None
        self._pending = False
        return scope.cancelled_caught

    def wake(self) -> None:
        """Wake the sleeper now, or make its next sleep return at once."""
        if self._scope is not None:
            self._scope.cancel()
        else:
            self._pending = True


class _Timeout:
    pass


_TIMED_OUT = _Timeout()


async def within(clock: Clock, seconds: float, call: Callable[[], Awaitable[T]]) -> T | _Timeout:
    """`await call()`, or `TIMED_OUT` if it takes more than `seconds` on `clock`."""
    result: T | _Timeout = _TIMED_OUT
    async with anyio.create_task_group() as tg:

        async def run() -> None:
            nonlocal result
            result = await call()
            tg.cancel_scope.cancel()

        async def limit() -> None:
            await clock.sleep(max(0.0, seconds))
            tg.cancel_scope.cancel()

        tg.start_soon(run)
        tg.start_soon(limit)
    return result


TIMED_OUT = _TIMED_OUT
