"""The manual clock: sleepers wake at their own deadlines, in order, during `advance`."""

from __future__ import annotations

import anyio
import pytest

from lib_common.core.clock import SYSTEM_CLOCK, ManualClock


@pytest.mark.anyio
async def test_sleepers_wake_in_deadline_order_at_their_own_time() -> None:
    """Each sleeper sees the clock at its deadline, and a re-arming sleeper is honoured
    within the same advance."""
    clock = ManualClock(mono=0.0, wall=1000.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float, again: float | None = None) -> None:
        await clock.sleep(delay)
        woke.append((name, clock.monotonic()))
        if again is not None:
            await clock.sleep(again)
            woke.append((name + "+", clock.monotonic()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper, "b", 5.0)
        tg.start_soon(sleeper, "a", 2.0, 1.0)
        tg.start_soon(sleeper, "late", 50.0)
        await clock.advance(10.0)
        assert woke == [("a", 2.0), ("a+", 3.0), ("b", 5.0)]
        assert clock.monotonic() == 10.0
        assert clock.time() == 1010.0
        assert clock.sleepers() == 1
        assert clock.next_wakeup() == 50.0
        tg.cancel_scope.cancel()
    assert clock.sleepers() == 0  # a cancelled sleeper is forgotten


@pytest.mark.anyio
async def test_zero_sleep_and_backwards_time() -> None:
    """sleep(0) returns at once; advancing by a negative amount is refused."""
    clock = ManualClock()
    with anyio.fail_after(1):
        await clock.sleep(0)
    with pytest.raises(ValueError):
        await clock.advance(-1)
    await SYSTEM_CLOCK.sleep(0)
    assert SYSTEM_CLOCK.time() > 1_700_000_000


@pytest.mark.parametrize(
    "anyio_backend", [("asyncio", {}), ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"]
)
@pytest.mark.anyio
async def test_system_clock_sleep_past_a_deadline_returns(anyio_backend: object) -> None:
    """A negative wait (a deadline that just passed) returns at once on either loop;
    uvloop's own sleep would raise ValueError."""
    pytest.importorskip("uvloop")
    with anyio.fail_after(1):
        await SYSTEM_CLOCK.sleep(-0.001)
